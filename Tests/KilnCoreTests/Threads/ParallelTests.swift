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
