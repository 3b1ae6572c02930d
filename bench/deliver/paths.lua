-- bench/deliver/paths.lua - wrk script: every request takes the next path
-- of a list (one a line), round-robin, so a run cycles over all the images.
--
--   wrk -t2 -c8 -d30s -s paths.lua URL -- PATHFILE THREADS
--
-- Thread k starts k/THREADS of the way into the list, so two threads do
-- not ask for the same image at the same moment (which a server with
-- request coalescing could answer with one encode).

local threads = 0

function setup(thread)
	thread:set("id", threads)
	threads = threads + 1
end

function init(args)
	paths = {}
	for line in io.lines(args[1]) do
		if #line > 0 then
			paths[#paths + 1] = line
		end
	end
	assert(#paths > 0, "no paths in " .. tostring(args[1]))
	local nthreads = tonumber(args[2] or "1")
	counter = math.floor((id or 0) * #paths / nthreads)
end

function request()
	counter = counter % #paths + 1
	return wrk.format("GET", paths[counter])
end
