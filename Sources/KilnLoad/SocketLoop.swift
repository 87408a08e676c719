#if canImport(Glibc)
import Glibc
#endif
import CKilnSupport
import KilnCore
import NIOConcurrencyHelpers

/// One thread's event loop for the load generator: level-triggered epoll over its sockets,
/// timers on a deadline heap (the wait's timeout), and work handed over from other threads
/// through an eventfd. A request costs one `send`, one `read` and a share of an `epoll_wait`
/// (wrk adds two `epoll_ctl`); what runs between them is the worker's own code.
/// Everything but `execute` is for the loop's thread.
final class SocketLoop: @unchecked Sendable {
    private let epollFD: Int32
    private let wakeFD: Int32
    private static let wakeKey = UInt64.max

    /// Sockets by slot; an event carries its socket's slot and generation (a slot reused in
    /// the same wait does not take the old socket's events).
    private var sockets: [LoadSocket?] = []
    private var freeSlots: [Int] = []
    private var generation: UInt32 = 0

    private var timers = TimerHeap()
    private let inbox = NIOLockedValueBox(Inbox())
    private var stopped = false
    /// Where every socket of this loop reads into.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 64)

    private struct Inbox {
        var work: [@Sendable () -> Void] = []
        var closed = false
    }

    init() throws {
        epollFD = ckiln_poll_create()
        wakeFD = ckiln_wake_create()
        guard epollFD >= 0, wakeFD >= 0 else {
            let reason = String(cString: strerror(errno))
            if epollFD >= 0 { close(epollFD) }
            if wakeFD >= 0 { close(wakeFD) }
            throw KilnError(.io, "cannot create an event loop: \(reason)")
        }
        _ = ckiln_poll_watch(epollFD, wakeFD, UInt32(CKILN_EVENT_IN), Self.wakeKey, 1)
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        readBuffer.deallocate()
    }

    /// Starts the loop on a thread of its own; it ends at `stop()`.
    func startThread() {
        var thread = pthread_t()
        let loop = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<SocketLoop>.fromOpaque(argument!).takeRetainedValue()
            ckiln_thread_name("kiln-load")  // as top and perf show it
            loop.run()
            return nil
        }, loop)
        if started == 0 {
            pthread_detach(thread)
        } else {  // no thread to be had: run here rather than never
            Unmanaged<SocketLoop>.fromOpaque(loop).release()
            run()
        }
    }

    /// Runs `work` on the loop's thread, from any thread (on the caller's once the loop has ended).
    func execute(_ work: @escaping @Sendable () -> Void) {
        let queued = inbox.withLockedValue { inbox -> Bool in
            guard !inbox.closed else { return false }
            inbox.work.append(work)
            return true
        }
        guard queued else { return work() }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Ends `run` after the current event.
    func stop() { stopped = true }

    // MARK: - Timers

    /// Runs `work` at `deadline` (uptime nanoseconds; at once if past).
    @discardableResult
    func schedule(at deadline: UInt64, _ work: @escaping () -> Void) -> TimerHeap.ID {
        timers.insert(deadline: deadline, work)
    }

    func cancel(_ timer: TimerHeap.ID) { timers.remove(timer) }

    // MARK: - Sockets

    func register(_ socket: LoadSocket, events: UInt32) -> Bool {
        let slot = freeSlots.popLast() ?? { sockets.append(nil); return sockets.count - 1 }()
        generation &+= 1
        socket.key = UInt64(generation) << 32 | UInt64(slot)
        sockets[slot] = socket
        guard ckiln_poll_watch(epollFD, socket.fd, events, socket.key, 1) == 0 else {
            unregister(socket)
            return false
        }
        return true
    }

    func watch(_ socket: LoadSocket, events: UInt32) {
        _ = ckiln_poll_watch(epollFD, socket.fd, events, socket.key, 0)
    }

    /// Forgets the socket (its descriptor is closed by the caller, which takes it out of epoll).
    func unregister(_ socket: LoadSocket) {
        let slot = Int(truncatingIfNeeded: socket.key & 0xffff_ffff)
        guard slot < sockets.count, sockets[slot] === socket else { return }
        sockets[slot] = nil
        freeSlots.append(slot)
    }

    // MARK: - Running

    private func run() {
        ckiln_thread_precise_timers()
        var events = [ckiln_event](repeating: ckiln_event(), count: 64)
        events.withUnsafeMutableBufferPointer { events in
            while !stopped {
                runDueTimers()
                if stopped { break }
                let count = wait(events)
                for index in 0..<count where !stopped {
                    let key = events[index].key
                    if key == Self.wakeKey {
                        runInbox()
                        continue
                    }
                    let slot = Int(truncatingIfNeeded: key & 0xffff_ffff)
                    if slot < sockets.count, let socket = sockets[slot], socket.key == key {
                        socket.handle(events[index].events)
                    }
                }
            }
        }
        // Pending timers hold their workers, which hold this loop: let both go.
        timers = TimerHeap()
        for socket in sockets { socket?.close() }
        sockets = []
        let late = inbox.withLockedValue { inbox -> [@Sendable () -> Void] in
            inbox.closed = true
            defer { inbox.work = [] }
            return inbox.work
        }
        for work in late { work() }
    }

    /// Waits for events until the next timer is due; returns how many arrived.
    private func wait(_ events: UnsafeMutableBufferPointer<ckiln_event>) -> Int {
        var timeout: Int64 = -1
        if let next = timers.nextDeadline {
            let now = uptimeNow()
            timeout = next > now ? Int64(clamping: next - now) : 0
        }
        return Int(ckiln_poll_wait(epollFD, events.baseAddress, Int32(events.count), timeout))
    }

    private func runDueTimers() {
        guard timers.nextDeadline != nil else { return }
        let now = uptimeNow()
        while let work = timers.popDue(now: now) {
            work()
            if stopped { return }
        }
    }

    private func runInbox() {
        var count: UInt64 = 0
        _ = read(wakeFD, &count, 8)
        let work = inbox.withLockedValue { inbox -> [@Sendable () -> Void] in
            defer { inbox.work = [] }
            return inbox.work
        }
        for item in work { item() }
    }
}
