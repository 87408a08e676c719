import KilnCore
import KilnNN
import NIOConcurrencyHelpers

/// `config.json` of a model version: TensorFlow Serving's batching parameters.
public struct BatchingConfig: Sendable, Equatable {
    /// Rows (instances) in one model run at most.
    public var maxBatchSize: Int
    /// How long the first request of a batch waits for more.
    public var batchTimeoutMicros: Int
    /// Batches' worth of rows that may wait; beyond, requests get 429.
    public var maxEnqueuedBatches: Int

    public init(json text: String) throws {
        var spec = try SpecObject(try JSONValue.parse(text), path: "config")
        maxBatchSize = try spec.int("max_batch_size", minimum: 1) ?? 32
        batchTimeoutMicros = try spec.int("batch_timeout_micros", minimum: 0) ?? 1000
        maxEnqueuedBatches = try spec.int("max_enqueued_batches", minimum: 1) ?? 100
        try spec.rejectUnknownFields()
    }
}

/// The queue is full: the request is refused (HTTP 429), not delayed without bound.
struct QueueFull: Error, CustomStringConvertible {
    let description: String
}

/// Dynamic batching for one model version: concurrent requests' rows are concatenated into one
/// model run of at most `maxBatchSize` rows (the first waits up to `batchTimeoutMicros` for
/// company), and each request gets its own rows of the outputs back.
actor Batcher {
    struct Job {
        let inputs: [String: Tensor]
        let rows: Int
        let continuation: CheckedContinuation<[String: Tensor], Error>
    }

    let config: BatchingConfig
    let run: @Sendable ([String: Tensor]) throws -> [String: Tensor]
    /// Told the size of every batch that runs (for the metrics).
    nonisolated let observer = NIOLockedValueBox<(@Sendable (Int) -> Void)?>(nil)
    /// Instances waiting (for the metrics' queue depth).
    nonisolated let depth = NIOLockedValueBox(0)
    private var queue: [Job] = []
    private var queuedRows = 0 {
        didSet { depth.withLockedValue { [queuedRows] in $0 = queuedRows } }
    }
    private var draining = false

    init(config: BatchingConfig, run: @escaping @Sendable ([String: Tensor]) throws -> [String: Tensor]) {
        self.config = config
        self.run = run
    }

    func submit(_ inputs: [String: Tensor]) async throws -> [String: Tensor] {
        guard let rows = inputs.values.first?.shape.first, inputs.values.allSatisfy({ $0.shape.first == rows }) else {
            throw KilnError.shapeMismatch("the inputs disagree on the number of instances")
        }
        guard rows <= config.maxBatchSize else {
            throw KilnError.invalidArgument("\(rows) instances are more than the model's max_batch_size (\(config.maxBatchSize))")
        }
        guard queuedRows + rows <= config.maxBatchSize * config.maxEnqueuedBatches else {
            throw QueueFull(description: "the model's queue is full (\(queuedRows) instances waiting); retry later")
        }
        return try await withCheckedThrowingContinuation { continuation in
            queue.append(Job(inputs: inputs, rows: rows, continuation: continuation))
            queuedRows += rows
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            if queuedRows < config.maxBatchSize, config.batchTimeoutMicros > 0 {
                try? await Task.sleep(nanoseconds: UInt64(config.batchTimeoutMicros) * 1000)
            }
            // Whole requests, in arrival order, up to the batch size (one request at least).
            var taken: [Job] = []
            var rows = 0
            while let next = queue.first, taken.isEmpty || rows + next.rows <= config.maxBatchSize,
                  taken.isEmpty || Self.compatible(next.inputs, taken[0].inputs) {
                taken.append(queue.removeFirst())
                rows += next.rows
            }
            queuedRows -= rows
            await execute(taken, rows: rows)
        }
        draining = false
    }

    private nonisolated func execute(_ jobs: [Job], rows: Int) async {
        observer.withLockedValue { $0 }?(rows)
        do {
            let inputs = jobs.count == 1 ? jobs[0].inputs : try Self.concatenate(jobs.map(\.inputs))
            let outputs = try run(inputs)
            var start = 0
            for job in jobs {
                job.continuation.resume(returning: jobs.count == 1 ? outputs
                                        : try outputs.mapValues { try Self.rows($0, start..<(start + job.rows)) })
                start += job.rows
            }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
        }
    }

    /// Requests batch together when their inputs have the same names, dtypes and row shapes.
    static func compatible(_ a: [String: Tensor], _ b: [String: Tensor]) -> Bool {
        a.count == b.count && a.allSatisfy { name, tensor in
            guard let other = b[name] else { return false }
            return tensor.dtype == other.dtype && tensor.shape.dropFirst() == other.shape.dropFirst()
        }
    }

    static func concatenate(_ requests: [[String: Tensor]]) throws -> [String: Tensor] {
        try requests[0].mapValues { _ in Tensor?.none }.keys.reduce(into: [String: Tensor]()) { result, name in
            let parts = requests.map { $0[name]! }
            let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + Array(parts[0].shape.dropFirst())
            func join<T: TensorElement>(_ type: T.Type) throws -> Tensor {
                try Tensor(shape: shape, values: try parts.flatMap { try $0.scalars(as: T.self) })
            }
            switch parts[0].dtype {
            case .float32: result[name] = try join(Float.self)
            case .int64: result[name] = try join(Int64.self)
            case .int32: result[name] = try join(Int32.self)
            case .uint8: result[name] = try join(UInt8.self)
            }
        }
    }

    /// Rows `range` of a tensor's first axis.
    static func rows(_ tensor: Tensor, _ range: Range<Int>) throws -> Tensor {
        let width = tensor.shape.dropFirst().reduce(1, *)
        let shape = [range.count] + Array(tensor.shape.dropFirst())
        func slice<T: TensorElement>(_ type: T.Type) throws -> Tensor {
            try Tensor(shape: shape, values: Array(try tensor.scalars(as: T.self)[(range.lowerBound * width)..<(range.upperBound * width)]))
        }
        switch tensor.dtype {
        case .float32: return try slice(Float.self)
        case .int64: return try slice(Int64.self)
        case .int32: return try slice(Int32.self)
        case .uint8: return try slice(UInt8.self)
        }
    }
}
