import CKilnSupport
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Kiln's own threads for `Parallel.forEach`: `Threads.count − 1` workers that the caller joins.
///
/// Inference runs dozens of short parallel regions back to back. Waking a sleeping thread for
/// each (as `DispatchQueue.concurrentPerform` does) costs tens of microseconds on these
/// machines and, worse, varies from run to run. So a worker that finishes a region spins for a
/// while (yielding the core to any other runnable thread, OpenBLAS's included) watching for the
/// next one, and only then sleeps on a semaphore; chunks are claimed from an atomic counter by
/// whoever comes first, the caller included.
///
/// The scheduler must not put a worker on the caller's core: there it waits until the caller
/// yields, which a caller that claims every chunk itself never does (measured: a worker idle
/// for a whole 20-run benchmark process, in about one process in four). So a new worker is
/// given the CPU once (its creator blocks until it has started), a caller that wakes a sleeping
/// worker yields once, and a worker that finds itself on its creator's or caller's core moves
/// off it (`ckiln_move_off_cpu`: a nudge, not a pin).
///
/// One region at a time: a second caller (another thread's session, or a region started from
/// inside a chunk) finds the pool busy and `run` returns false, so that it falls back to
/// `concurrentPerform`.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker watches for the next region before it sleeps.
    static let spinNanoseconds: UInt64 = 100_000

    private let workers = Mutex<[Worker]>([])
    private let current = Mutex<Job?>(nil)
    private let generation = Atomic<Int>(0)

    /// Runs `body(chunk)` for every chunk in `0..<chunks` on the caller and the workers; returns
    /// when all are done, or false at once (running nothing) when another region holds the pool.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        let ran: Bool? = workers.withLockIfAvailable { workers in
            while workers.count < chunks - 1, let worker = Worker.start(in: self) { workers.append(worker) }
            withoutActuallyEscaping(body) { escapable in
                var closure = escapable
                withUnsafePointer(to: &closure) { pointer in
                    let job = Job(body: pointer, chunks: chunks)
                    current.withLock { $0 = job }
                    generation.add(1, ordering: .sequentiallyConsistent)
                    var woke = false
                    for worker in workers where worker.wakeIfSleeping() { woke = true }
                    // A worker woken onto this core could only run once this thread yields.
                    if woke { sched_yield() }
                    job.work()
                    while job.done.load(ordering: .acquiring) < chunks { sched_yield() }
                    current.withLock { $0 = nil }
                }
            }
            return true
        }
        return ran ?? false
    }

    /// One region: its chunks and who has claimed and finished them.
    final class Job: @unchecked Sendable {
        /// The caller's closure. Only dereferenced for a claimed chunk, which the caller waits for.
        let body: UnsafePointer<(Int) -> Void>
        let chunks: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        /// Where the caller runs: a worker woken onto the same core moves off it.
        let callerCPU = ckiln_current_cpu()

        init(body: UnsafePointer<(Int) -> Void>, chunks: Int) {
            self.body = body
            self.chunks = chunks
        }

        /// Claims and runs chunks until none is left.
        func work() {
            while true {
                let chunk = next.add(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                body.pointee(chunk)
                done.add(1, ordering: .releasing)
            }
        }
    }

    final class Worker: @unchecked Sendable {
        private static let awake = 0, asleep = 1
        private let state = Atomic<Int>(Worker.awake)
        private let semaphore = DispatchSemaphore(value: 0)

        /// A new worker on a thread of its own, or nil if the system refuses a thread (the
        /// caller then runs the chunks no worker claims).
        static func start(in pool: WorkerPool) -> Worker? {
            let worker = Worker()
            let box = Box(pool: pool, worker: worker, creatorCPU: ckiln_current_cpu())
            let context = Unmanaged.passRetained(box)
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                if ckiln_current_cpu() == box.creatorCPU { _ = ckiln_move_off_cpu(box.creatorCPU) }
                box.started.signal()
                box.pool.loop(box.worker)
            }, context.toOpaque())
            guard status == 0 else {
                context.release()
                return nil
            }
            pthread_detach(thread)
            // Blocking until it runs lets a thread placed on this core start (and move off it).
            box.started.wait()
            return worker
        }

        /// Called by the region's caller after publishing it; true if the worker was asleep.
        func wakeIfSleeping() -> Bool {
            guard state.compareExchange(expected: Worker.asleep, desired: Worker.awake, ordering: .sequentiallyConsistent).exchanged
            else { return false }
            semaphore.signal()
            return true
        }

        /// Sleeps unless the generation moved past `seen` meanwhile.
        func sleep(unlessPast seen: Int, in generation: borrowing Atomic<Int>) {
            state.store(Worker.asleep, ordering: .sequentiallyConsistent)
            if generation.load(ordering: .sequentiallyConsistent) != seen {
                // A region came: take the sleep back, unless its caller already woke us.
                if state.compareExchange(expected: Worker.asleep, desired: Worker.awake, ordering: .sequentiallyConsistent).exchanged {
                    return
                }
            }
            semaphore.wait()
        }
    }

    /// What a new worker thread starts with.
    private final class Box {
        let pool: WorkerPool, worker: Worker
        let creatorCPU: Int32
        let started = DispatchSemaphore(value: 0)
        init(pool: WorkerPool, worker: Worker, creatorCPU: Int32) {
            (self.pool, self.worker, self.creatorCPU) = (pool, worker, creatorCPU)
        }
    }

    private func loop(_ worker: Worker) -> Never {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var deadline: UInt64 = 0
            var latest = generation.load(ordering: .acquiring)
            while latest == seen {
                let now = DispatchTime.now().uptimeNanoseconds
                if deadline == 0 { deadline = now + WorkerPool.spinNanoseconds }
                if now > deadline {
                    worker.sleep(unlessPast: seen, in: generation)
                    deadline = 0
                } else {
                    sched_yield()
                }
                latest = generation.load(ordering: .acquiring)
            }
            seen = latest
            if let job = current.withLock({ $0 }) {
                // Woken onto the caller's core (the scheduler's wake-affine choice), this worker
                // would wait behind the caller, which does not yield until its chunks are done,
                // for as long as the balancer takes to notice (measured: often the whole run).
                if ckiln_current_cpu() == job.callerCPU { _ = ckiln_move_off_cpu(job.callerCPU) }
                job.work()
            }
        }
    }
}
