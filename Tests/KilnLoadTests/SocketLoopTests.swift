import Testing
@testable import KilnLoad

struct SocketLoopTests {
    @Test func timersRunInDeadlineOrderAndCancelledOnesNever() {
        var heap = TimerHeap()
        var ran: [Int] = []
        for (deadline, label) in [(30, 3), (10, 1), (20, 2), (10, 11), (40, 4)] {
            let id = heap.insert(deadline: UInt64(deadline)) { ran.append(label) }
            if label == 4 { heap.remove(id) }
        }
        let cancelled = heap.insert(deadline: 5) { ran.append(0) }
        heap.remove(cancelled)
        #expect(heap.nextDeadline == 10)
        while let work = heap.popDue(now: 25) { work() }
        #expect(ran == [1, 11, 2])  // equal deadlines in the order they were set
        #expect(heap.nextDeadline == 30)
        while let work = heap.popDue(now: 100) { work() }
        #expect(ran == [1, 11, 2, 3])
        #expect(heap.nextDeadline == nil)
    }

    @Test func workFromOtherThreadsRunsOnTheLoopAndAfterItEnds() async throws {
        let loop = try SocketLoop()
        loop.startThread()
        let answer = await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: 42) }
        }
        #expect(answer == 42)
        await withCheckedContinuation { continuation in
            loop.execute {
                loop.schedule(at: uptimeNow() + 1_000_000) {
                    loop.stop()
                    continuation.resume()
                }
            }
        }
        // The loop has ended (or is ending): work still runs, on the caller's thread if need be.
        let late = await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: 7) }
        }
        #expect(late == 7)
    }
}
