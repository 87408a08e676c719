import Dispatch

/// A CSV source cut into blocks that end on record boundaries, handed out a group at a time.
/// With read-ahead, the next group is read on another thread while the caller parses this one
/// (reading is the one serial step of a parallel parse). Only one thread touches the source at
/// a time: the caller waits for a read in flight before anything else.
final class BlockFeed: @unchecked Sendable {
    /// Blocks, and whether the input ended with them.
    struct Group {
        var blocks: [[UInt8]]
        var isLast: Bool
    }

    private let source: ByteSource
    private let tokenizer: CSVTokenizer
    private let blockBytes: Int
    private var pending: [UInt8] = []
    private var putBack: [UInt8]?
    private var inFlight: InFlight?

    /// A group being read on another thread.
    private final class InFlight: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var group: Result<Group, Error> = .success(Group(blocks: [], isLast: true))
    }

    init(source: ByteSource, tokenizer: CSVTokenizer, blockBytes: Int) {
        self.source = source
        self.tokenizer = tokenizer
        self.blockBytes = blockBytes
    }

    /// The next block ending on a record boundary (or the rest of the input), nil at the end.
    /// Not while a group is in flight (the reader's set-up reads the first block this way).
    func nextBlock() throws -> [UInt8]? {
        if let block = putBack {
            putBack = nil
            return block
        }
        var buffer = pending
        pending = []
        while true {
            if !source.isAtEnd {
                try source.read(into: &buffer, count: blockBytes)
            }
            if source.isAtEnd {
                return buffer.isEmpty ? nil : buffer
            }
            // No boundary means a record longer than the block: read more and scan again.
            let end = buffer.withUnsafeBufferPointer { tokenizer.lastRecordEnd($0) }
            if end > 0 {
                pending = Array(buffer[end...])
                buffer.removeLast(buffer.count - end)
                return buffer
            }
        }
    }

    /// Makes `block` the next one handed out.
    func putBack(_ block: [UInt8]) { putBack = block }

    /// The next `count` blocks (fewer at the end of the input); with `readAhead`, the group
    /// after them starts reading on another thread.
    func nextGroup(count: Int, readAhead: Bool) throws -> Group {
        let group: Group
        if let inFlight {
            inFlight.done.wait()
            self.inFlight = nil
            group = try inFlight.group.get()
        } else {
            group = try readGroup(count: count)
        }
        if readAhead && !group.isLast {
            let next = InFlight()
            inFlight = next
            DispatchQueue.global(qos: .userInitiated).async {
                next.group = Result { try self.readGroup(count: count) }
                next.done.signal()
            }
        }
        return group
    }

    private func readGroup(count: Int) throws -> Group {
        var group = Group(blocks: [], isLast: false)
        while group.blocks.count < count {
            guard let block = try nextBlock() else {
                group.isLast = true
                break
            }
            group.blocks.append(block)
        }
        return group
    }
}
