import Dispatch
import Synchronization
import Testing

@testable import KilnCore

@Suite(.serialized) struct ParallelTests {
    @Test(arguments: [0, 1, 2, 7, 100, 1001])
    func everyIndexRunsExactlyOnce(count: Int) {
        for threads in [1, 2, 3, 8] {
            let hits = Mutex([Int](repeating: 0, count: count))
            Parallel.forEach(count, threads: threads) { range in
                hits.withLock { for index in range { $0[index] += 1 } }
            }
            #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
        }
    }

    /// A region inside a chunk (on the caller's thread and on a worker's) and regions from
    /// several threads at once: the pool is busy for all but one, which fall back; every index
    /// still runs once.
    @Test func nestedAndConcurrentRegionsRunEveryIndexOnce() {
        let hits = Mutex([Int](repeating: 0, count: 4 * 50))
        Parallel.forEach(4, threads: 4) { outer in
            for block in outer {
                Parallel.forEach(50, threads: 3) { inner in
                    hits.withLock { for index in inner { $0[block * 50 + index] += 1 } }
                }
            }
        }
        #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<20 { Parallel.forEach(64, threads: 2) { total.add($0.count, ordering: .relaxed) } }
        }
        #expect(total.load(ordering: .relaxed) == 8 * 20 * 64)
    }

    @Test func minimumChunkLimitsTheSplit() {
        let chunks = Atomic<Int>(0)
        Parallel.forEach(100, threads: 8, minimumChunk: 50) { _ in chunks.add(1, ordering: .relaxed) }
        #expect(chunks.load(ordering: .relaxed) == 2)
    }

    @Test func threadCountIsCheckedAndOpenBLASStaysSingleThreaded() throws {
        try Threads.setCount(2)
        #expect(Threads.count == 2)
        #expect(BLAS.info.threads == 1)  // Kiln's pool splits the products
        try Threads.setCount(1)
        #expect(Threads.count == 1)
        #expect(throws: KilnError.self) { try Threads.setCount(-1) }
        #expect(throws: KilnError.self) { try Threads.setCount(5000) }
        try Threads.setCount(0)
        #expect(Threads.count == Threads.defaultCount)
        #expect(Threads.availableCores >= 1)
    }
}
