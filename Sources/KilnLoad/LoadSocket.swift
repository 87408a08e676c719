#if canImport(Glibc)
import Glibc
#endif
import CKilnSupport
import NIOCore

/// A worker's non-blocking TCP connection on its `SocketLoop`: connects, sends a request
/// (what the socket does not take at once is sent when it is writable), and hands the bytes
/// that come back, or the end of the connection, to the worker.
final class LoadSocket {
    let fd: Int32
    /// The loop's key for this socket's events.
    var key: UInt64 = 0
    private(set) var isConnecting = true
    private(set) var isOpen = true
    private unowned let loop: SocketLoop
    private unowned let worker: LoadWorker
    private unowned let connection: LoadConnection
    /// The part of a request the socket has not taken yet.
    private var unsent: ByteBuffer?

    /// Starts connecting; the worker hears `connected` or `closed(connectFailed: true)` later,
    /// never from within this call. Throws when no socket can be made at all.
    init(connectingTo address: SocketAddress, on loop: SocketLoop, worker: LoadWorker, connection: LoadConnection) throws {
        let family = address.withSockAddr { pointer, _ in Int32(pointer.pointee.sa_family) }
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoadSocketError(errno: errno) }
        self.loop = loop
        self.worker = worker
        self.connection = connection
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let started = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        let failure = started == 0 ? 0 : errno
        if failure != 0 && failure != EINPROGRESS {
            // Refused at once (loopback): said from the loop, not from inside the caller.
            Glibc.close(fd)
            isOpen = false
            loop.schedule(at: 0) { [self] in worker.closed(self, for: connection, connectFailed: true) }
            return
        }
        guard loop.register(self, events: UInt32(CKILN_EVENT_OUT)) else {
            let error = LoadSocketError(errno: errno)
            Glibc.close(fd)
            isOpen = false
            throw error
        }
    }

    deinit { if isOpen { Glibc.close(fd) } }

    /// Sends `buffer` (a connected socket only), after what is still waiting to go out (a
    /// server may answer before it has read all of a large body).
    func send(_ buffer: ByteBuffer) {
        guard isOpen else { return }
        if unsent != nil {
            unsent!.writeImmutableBuffer(buffer)
            return
        }
        let sent = buffer.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent == buffer.readableBytes { return }
        // A broken connection is seen by the next read, which the loop reports (EPOLLERR/HUP).
        guard sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: max(sent, 0))
        unsent = rest
        loop.watch(self, events: UInt32(CKILN_EVENT_IN) | UInt32(CKILN_EVENT_OUT))
    }

    /// Closes the connection; the worker hears nothing more of it.
    func close() {
        guard isOpen else { return }
        isOpen = false
        loop.unregister(self)
        Glibc.close(fd)
    }

    /// What epoll reported.
    func handle(_ events: UInt32) {
        if isConnecting {
            finishConnecting()
            return
        }
        if events & (UInt32(CKILN_EVENT_IN) | UInt32(CKILN_EVENT_ERR) | UInt32(CKILN_EVENT_HUP)) != 0 {
            let count = read(fd, loop.readBuffer.baseAddress, loop.readBuffer.count)
            if count > 0 {
                worker.received(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]), from: self, for: connection)
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                close()
                worker.closed(self, for: connection, connectFailed: false)
                return
            }
        }
        if isOpen, events & UInt32(CKILN_EVENT_OUT) != 0, let rest = unsent {
            unsent = nil
            loop.watch(self, events: UInt32(CKILN_EVENT_IN))
            send(rest)
        }
    }

    private func finishConnecting() {
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) != 0 { failure = errno }
        guard failure == 0 else {
            close()
            worker.closed(self, for: connection, connectFailed: true)
            return
        }
        isConnecting = false
        loop.watch(self, events: UInt32(CKILN_EVENT_IN))
        worker.connected(self, for: connection)
    }
}

struct LoadSocketError: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { String(cString: strerror(errno)) }
}
