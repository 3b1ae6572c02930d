#!/usr/bin/env python3
"""Fail when the modules of src/ include each other in a circle.

A module is a .c file with its header, named by its path without the
extension (core/library = core/library.c + core/library.h). Module A
depends on module B when A.c or A.h has `#include "B.h"`. Every cycle in
that graph (a strongly connected component of two or more modules) is
printed with the include lines that close it, and the exit status is 1.

Why modules and not files: headers alone never form a cycle that compiles
(include guards hide it), but library.c including asset.h while asset.c
includes library.h still ties the two modules together: neither can be
understood, tested or replaced alone.

A header without a .c of its own (db/db_backend.h, media/media.h, a
header of shared types) holds no code: it is looked through, so including
it counts as including what it includes. db.c including db_backend.h,
which includes db.h, is therefore db depending on itself, not a circle.
The flip side: a header-only file that declares the functions of several
.c files (as media/media_int.h did) hides their circles from this check;
give each .c its own header.

KNOWN lists cycles tolerated for now, each with the reason; an entry that
no longer matches a cycle is reported, so the list cannot go stale.

Usage: check-include-cycles.py SRC_DIR
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

# Cycles tolerated for now: frozenset of modules -> why.
KNOWN = {}


def module_of(rel):
    """core/library.c -> core/library"""
    return os.path.splitext(rel)[0]


def read_files(src):
    """Return ({module: {included module: (file, line, text)}}, modules with
    a .c) for every .c and .h under src."""
    files, real = {}, set()
    for folder, _dirs, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, src)
            mod = module_of(rel)
            if name.endswith(".c"):
                real.add(mod)
            edges = files.setdefault(mod, {})
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m:
                        edges.setdefault(module_of(m.group(1)), (rel, n, line.strip()))
    return files, real


def read_graph(src):
    """Return {module: {dependency: (file, line, text)}} over the modules
    that have a .c, looking through header-only files."""
    files, real = read_files(src)

    def through(mod, seen):
        """Real modules reached from header-only `mod`."""
        out = set()
        for dep in files.get(mod, {}):
            if dep in real:
                out.add(dep)
            elif dep in files and dep not in seen:
                seen.add(dep)
                out |= through(dep, seen)
        return out

    graph = {}
    for mod in sorted(real):
        edges = graph.setdefault(mod, {})
        for dep, where in sorted(files[mod].items()):
            if dep in real:
                targets = {dep}
            elif dep in files:
                targets = through(dep, {dep})
            else:
                targets = set()  # a generated header: not part of src/
            for t in sorted(targets - {mod}):
                edges.setdefault(t, where)
    return graph


def cycles(graph):
    """Tarjan's strongly connected components with two or more members."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def enter(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)

    def visit(v):
        # Iterative, so a deep include chain never hits Python's recursion limit.
        enter(v)
        work = [(v, iter(sorted(graph[v])))]
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    enter(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    graph = read_graph(argv[1])
    if not graph:
        print("check-include-cycles: no sources under " + argv[1], file=sys.stderr)
        return 2
    bad = 0
    found = cycles(graph)
    for comp in found:
        members = set(comp)
        why = KNOWN.get(frozenset(comp))
        print("%s: %s" % ("known include cycle" if why else "include cycle", " <-> ".join(comp)))
        if why:
            print("  (tolerated: %s)" % why)
        else:
            bad += 1
        for mod in comp:
            for dep, (rel, n, text) in sorted(graph[mod].items()):
                if dep in members:
                    print("  %s:%d: %s" % (rel, n, text))
    for comp in set(KNOWN) - {frozenset(c) for c in found}:
        print("stale KNOWN entry (no such cycle any more): " + " <-> ".join(sorted(comp)))
        bad += 1
    if bad:
        print("%d problem(s) among %d modules" % (bad, len(graph)))
        return 1
    print("no include cycles among %d modules (%d known)" % (len(graph), len(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
