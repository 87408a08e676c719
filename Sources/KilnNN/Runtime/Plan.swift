@_spi(KilnInternals) import KilnCore

/// A model specialised for one set of input shapes: every value's shape known, everything
/// computable from constants and shapes computed, the remaining kernels in order, and one
/// arena holding all intermediate tensors, with buffers reused once their last reader ran.
/// Built once per input shapes; `run` allocates nothing but the output tensors. Graph inputs
/// are read where the caller keeps them, and outputs written straight into the caller's
/// buffers where the producing kernel allows it (else copied there at the end).
final class Plan: @unchecked Sendable {
    struct ScheduledStep {
        let step: Step
        let node: String
        let inputs: [Buffer?]
        let outputs: [Buffer]
    }

    let inputTypes: [ValueType]
    let steps: [ScheduledStep]
    let inputBuffers: [Buffer]
    let outputs: [(name: String, buffer: Buffer)]
    /// Per output: whether its kernel writes it into the caller's buffer directly (its slot is
    /// repointed each run), or it lives elsewhere (a view, a constant, an input) and is copied.
    let outputsWrittenInPlace: [Bool]
    let arenaBytes: Int
    let flops: Int
    /// Keeps the arena and every constant referenced by a buffer alive.
    private let storage: [Tensor]
    /// Every buffer's address, and each slot's address when not repointed to caller memory.
    private let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let homeAddresses: [UnsafeMutableRawPointer]

    deinit { slots.deallocate() }

    /// Evaluates an operator on constant inputs (load-time folding and plan-time constants).
    static func evaluate(_ op: any Operator, _ inputs: [Tensor?]) throws -> [Tensor] {
        let planned = inputs.map { $0.map { PlannedValue(type: ValueType(dtype: $0.dtype, shape: $0.shape), constant: $0) } }
        let step = try op.plan(planned)
        return try evaluate(step, inputs)
    }

    private static func evaluate(_ step: Step, _ inputs: [Tensor?]) throws -> [Tensor] {
        if let constants = step.constants { return constants }
        if step.aliasesFirstInput { return [try inputs[0]!.reshaped(step.outputs[0].shape)] }
        let dense = try inputs.map { try $0?.contiguous() }
        let outputs = try step.outputs.map { try Tensor(zeros: $0.shape, dtype: $0.dtype) }
        let tensors = dense.compactMap { $0 } + outputs
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: max(tensors.count, 1))
        defer { slots.deallocate() }
        var next = 0
        func buffer(_ tensor: Tensor) -> Buffer {
            (slots + next).initialize(to: tensor.unsafeBaseAddress)
            next += 1
            return Buffer(slot: slots + next - 1, type: ValueType(dtype: tensor.dtype, shape: tensor.shape))
        }
        let inputBuffers = dense.map { $0.map(buffer) }
        let outputBuffers = outputs.map(buffer)
        try withExtendedLifetime((dense, outputs)) { try step.run(inputBuffers, outputBuffers) }
        return outputs
    }

    init(graph: Graph, operators: [any Operator], inputTypes: [ValueType]) throws {
        self.inputTypes = inputTypes
        var values: [String: PlannedValue] = [:]
        for (name, tensor) in graph.initializers {
            values[name] = PlannedValue(type: ValueType(dtype: tensor.dtype, shape: tensor.shape), constant: tensor)
        }
        // Runtime values share a storage root when one is a view of another.
        var root: [String: String] = [:]
        var defined: [String: Int] = [:], lastUse: [String: Int] = [:]
        for (info, type) in zip(graph.inputs, inputTypes) {
            values[info.name] = PlannedValue(type: type, constant: nil)
            root[info.name] = info.name
            defined[info.name] = -1
        }
        var scheduled: [(step: Step, node: Node)] = []
        var totalFlops = 0
        for (node, op) in zip(graph.nodes, operators) {
            let inputs = node.inputs.map { $0.isEmpty ? nil : values[$0] }
            let step = try op.plan(inputs)
            for output in step.outputs { _ = try checkedCount(output.shape, output.dtype, node.label) }
            for (index, name) in node.outputs.enumerated() where index >= step.outputs.count && !name.isEmpty {
                throw KilnError.unsupported("\(node.label): output \(index) ('\(name)') is not supported")
            }
            let allConstant = inputs.allSatisfy { $0 == nil || $0!.constant != nil }
            if allConstant || step.constants != nil {
                let results = try Plan.evaluate(step, inputs.map { $0?.constant })
                for (name, tensor) in zip(node.outputs, results) where !name.isEmpty {
                    values[name] = PlannedValue(type: ValueType(dtype: tensor.dtype, shape: tensor.shape), constant: tensor)
                }
                continue
            }
            let index = scheduled.count
            scheduled.append((step, node))
            totalFlops += step.flops
            for input in node.inputs where !input.isEmpty {
                if let base = root[input] { lastUse[base] = index }
            }
            for (output, type) in zip(node.outputs, step.outputs) where !output.isEmpty {
                values[output] = PlannedValue(type: type, constant: nil)
                if step.aliasesFirstInput, let base = root[node.inputs[0]] {
                    root[output] = base
                } else {
                    root[output] = output
                    defined[output] = index
                }
            }
        }
        for output in graph.outputs {
            guard let value = values[output.name] else { throw KilnError.format("graph output '\(output.name)' is never produced") }
            if value.constant == nil, let base = root[output.name] { lastUse[base] = Int.max }
        }

        // Arena: first fit over 64-byte aligned blocks, freed after their last reader.
        var offsets: [String: Int] = [:]
        var free: [(offset: Int, size: Int)] = []
        var arenaEnd = 0
        func size(of name: String) -> Int { (values[name]!.type.byteCount + 63) / 64 * 64 }
        func allocate(_ name: String) {
            let needed = max(size(of: name), 64)
            if let slot = free.firstIndex(where: { $0.size >= needed }) {
                offsets[name] = free[slot].offset
                if free[slot].size == needed { free.remove(at: slot) } else { free[slot] = (free[slot].offset + needed, free[slot].size - needed) }
            } else {
                offsets[name] = arenaEnd
                arenaEnd += needed
            }
        }
        func release(_ name: String) {
            free.append((offsets[name]!, max(size(of: name), 64)))
            free.sort { $0.offset < $1.offset }
            var merged: [(offset: Int, size: Int)] = []
            for block in free {
                if let last = merged.last, last.offset + last.size == block.offset {
                    merged[merged.count - 1].size += block.size
                } else {
                    merged.append(block)
                }
            }
            free = merged
        }
        // Graph inputs take no arena space: every run points their slots at the caller's data.
        for (index, entry) in scheduled.enumerated() {
            for output in entry.node.outputs where !output.isEmpty && defined[output] == index { allocate(output) }
            let finished = Set(entry.node.inputs.compactMap { root[$0] } + entry.node.outputs.compactMap { root[$0] })
                .filter { (lastUse[$0] ?? index) == index && offsets[$0] != nil }
            for name in finished.sorted() { release(name) }
        }

        let arena = try Tensor(zeros: [max(arenaEnd, 64)], dtype: .uint8)
        var keep = [arena]
        // One slot per storage root and per constant used by a kernel or as an output.
        var slotIndex: [String: Int] = [:]
        var addresses: [UnsafeMutableRawPointer] = []
        func slot(_ key: String, _ address: () -> UnsafeMutableRawPointer) -> Int {
            if let index = slotIndex[key] { return index }
            addresses.append(address())
            slotIndex[key] = addresses.count - 1
            return addresses.count - 1
        }
        var slotOf: [String: Int] = [:]
        let readOrReturned = Set(scheduled.flatMap(\.node.inputs)).union(graph.outputs.map(\.name))
        for name in values.keys.sorted() where values[name]!.constant == nil || readOrReturned.contains(name) {
            if let constant = values[name]!.constant {
                let dense = (try? constant.contiguous()) ?? constant
                keep.append(dense)
                slotOf[name] = slot("constant:" + name) { dense.unsafeBaseAddress }
            } else if let base = root[name] {
                // A graph input (or a view of one) has no arena block until a run points it at data.
                slotOf[name] = slot(base) { arena.unsafeBaseAddress + (offsets[base] ?? 0) }
            }
        }
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: max(addresses.count, 1))
        slots.initialize(from: addresses, count: addresses.count)
        self.slots = slots
        homeAddresses = addresses
        func buffer(_ name: String) -> Buffer { Buffer(slot: slots + slotOf[name]!, type: values[name]!.type) }
        steps = scheduled.map { entry in
            ScheduledStep(step: entry.step, node: entry.node.label,
                          inputs: entry.node.inputs.map { $0.isEmpty ? nil : buffer($0) },
                          outputs: zip(entry.node.outputs, entry.step.outputs).map { buffer($0.0) })
        }
        inputBuffers = graph.inputs.map { buffer($0.name) }
        outputs = graph.outputs.map { ($0.name, buffer($0.name)) }
        // An output is written in place when a kernel defines it (not a view, input or constant)
        // and no other output shares its storage.
        let outputNames = graph.outputs.map(\.name)
        outputsWrittenInPlace = outputNames.map { name in
            values[name]!.constant == nil && root[name] == name && (defined[name] ?? -1) >= 0
                && outputNames.filter { root[$0] == name }.count == 1
        }
        arenaBytes = arenaEnd
        flops = totalFlops
        storage = keep
    }

    /// Runs on tensors: reads the inputs where they are (strided views are made dense first),
    /// returns new output tensors.
    func run(_ inputs: [Tensor]) throws -> [Tensor] {
        let dense = try inputs.map { try $0.contiguous() }
        // Every element of an output is written by the run (a step or the final copy).
        let results = try outputs.map { try Tensor(uninitialized: $0.buffer.type.shape, dtype: $0.buffer.type.dtype) }
        try withExtendedLifetime((dense, results)) {
            try run(inputs: dense.map { UnsafeRawPointer($0.unsafeBaseAddress) }, outputs: results.map(\.unsafeBaseAddress))
        }
        return results
    }

    /// Runs on caller memory: `inputs[i]` holds input i densely (in `inputTypes[i]`; only read),
    /// `outputs[j]` has room for output j and must not overlap an input. Allocates nothing.
    func run(inputs: [UnsafeRawPointer], outputs targets: [UnsafeMutableRawPointer]) throws {
        bind(inputs)
        for (index, target) in targets.enumerated() where outputsWrittenInPlace[index] {
            outputs[index].buffer.slot.pointee = target
        }
        defer { slots.update(from: homeAddresses, count: homeAddresses.count) }
        for scheduled in steps {
            try scheduled.step.run(scheduled.inputs, scheduled.outputs)
        }
        for (index, target) in targets.enumerated() where !outputsWrittenInPlace[index] {
            target.copyMemory(from: outputs[index].buffer.pointer, byteCount: outputs[index].buffer.type.byteCount)
        }
    }

    /// Points the graph inputs' slots at the caller's data (read only) for one run.
    private func bind(_ inputs: [UnsafeRawPointer]) {
        for (source, buffer) in zip(inputs, inputBuffers) {
            buffer.slot.pointee = UnsafeMutableRawPointer(mutating: source)
        }
    }

    /// Runs once, timing each step: (node, kernel, milliseconds), for `kiln bench nn --profile`.
    func profile(_ inputs: [Tensor]) throws -> [(node: String, kernel: String, milliseconds: Double)] {
        let dense = try inputs.map { try $0.contiguous() }
        bind(dense.map { UnsafeRawPointer($0.unsafeBaseAddress) })
        defer { slots.update(from: homeAddresses, count: homeAddresses.count) }
        return try withExtendedLifetime(dense) { try steps.filter { !$0.step.aliasesFirstInput }.map { scheduled in
            let start = ContinuousClock.now
            try scheduled.step.run(scheduled.inputs, scheduled.outputs)
            let elapsed = ContinuousClock.now - start
            return (scheduled.node, scheduled.step.kernel,
                    Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        } }
    }

    /// The kernels in order, for reports: node, kernel name, flops.
    var kernelReport: [(node: String, kernel: String, flops: Int)] {
        steps.filter { !$0.step.aliasesFirstInput }.map { ($0.node, $0.step.kernel, $0.step.flops) }
    }
}
