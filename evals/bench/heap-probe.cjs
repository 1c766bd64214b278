// Preloaded into the benchmarked server (`node --expose-gc --require evals/bench/heap-probe.cjs …`): on SIGUSR2
// it runs a full GC and prints one line `heap-probe {"heapUsed":…,"rss":…}` (bytes) on stderr. Comparing the
// post-GC heap before and after a load phase tells a leak (live heap grows with requests served) from warm-up
// (RSS grows once while the heap stays flat: JIT code, pool buffers, allocator arenas kept by the process).
'use strict'
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') {
    global.gc()
    global.gc()
  }
  const m = process.memoryUsage()
  process.stderr.write(`heap-probe ${JSON.stringify({ heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss })}\n`)
})
