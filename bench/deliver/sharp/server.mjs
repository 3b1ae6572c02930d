// bench/deliver/sharp/server.mjs - the image server most teams would write:
// Node's http module and sharp, nothing else. GET /img/N answers the N-th
// file of the list (one path a line) resized to 800x800 cover (centre crop)
// as WebP at quality Q (default 80, dam's default WebP quality). sharp keeps
// its defaults: libuv's 4 threadpool threads run the transforms, each with
// sharp's default libvips concurrency, and sharp's operation cache.
//
//   node server.mjs PORT LISTFILE [Q]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import sharp from 'sharp';

const [port, list, q = '80'] = process.argv.slice(2);
const files = readFileSync(list, 'utf8').split('\n').filter(Boolean);
const quality = Number(q);

const server = http.createServer(async (req, res) => {
	const m = /^\/img\/(\d+)$/.exec(req.url);
	const file = m && files[Number(m[1])];
	if (!file) {
		res.writeHead(404).end();
		return;
	}
	try {
		const body = await sharp(file)
			.resize(800, 800, { fit: 'cover', position: 'centre' })
			.webp({ quality })
			.toBuffer();
		res.writeHead(200, { 'content-type': 'image/webp', 'content-length': body.length });
		res.end(body);
	} catch (e) {
		res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
	}
});
server.keepAliveTimeout = 65000;
server.listen(Number(port), '127.0.0.1', () => {
	console.log(
		`sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}) listening on ${port}; ` +
			`${files.length} files; concurrency ${sharp.concurrency()}; ` +
			`threadpool ${process.env.UV_THREADPOOL_SIZE || 4}; simd ${sharp.simd()}`
	);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
