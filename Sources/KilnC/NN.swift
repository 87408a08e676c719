// CNN inference: models and sessions.
import CKilnHeader
import KilnCore
import KilnNN

#if canImport(Glibc)
import Glibc
#endif

/// The C view of a model: the model and C strings of its input/output names.
final class ModelHandle {
    let model: Model
    let inputNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]

    init(_ model: Model) {
        self.model = model
        inputNames = model.inputs.map { strdup($0.name)! }
        outputNames = model.outputs.map { strdup($0.name)! }
    }

    deinit { (inputNames + outputNames).forEach { free($0) } }
}

final class SessionHandle {
    let session: Session
    let model: ModelHandle
    init(_ session: Session, _ model: ModelHandle) {
        self.session = session
        self.model = model
    }
}


private func loadModel(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ load: () throws -> Model) -> Int32 {
    out?.pointee = nil
    return withStatus {
        guard let out else { throw KilnError(.nullPointer, "out_model is NULL") }
        out.pointee = retained(ModelHandle(try load()))
    }
}

@_cdecl("kiln_model_load")
public func kiln_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadModel(out) {
        guard let path else { throw KilnError(.nullPointer, "kiln_model_load: path is NULL") }
        return try Model(contentsOf: String(cString: path))
    }
}

@_cdecl("kiln_model_load_from_memory")
public func kiln_model_load_from_memory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadModel(out) {
        guard let data else { throw KilnError(.nullPointer, "kiln_model_load_from_memory: data is NULL") }
        return try Model(onnx: Array(UnsafeRawBufferPointer(start: data, count: size)))
    }
}

@_cdecl("kiln_model_free")
public func kiln_model_free(_ model: OpaquePointer?) {
    if let model { Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release() }
}

@_cdecl("kiln_model_input_count")
public func kiln_model_input_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = 0
    return withStatus {
        let handle = try borrowed(model, ModelHandle.self, "model")
        guard let out else { throw KilnError(.nullPointer, "out_count is NULL") }
        out.pointee = handle.model.inputs.count
    }
}

@_cdecl("kiln_model_output_count")
public func kiln_model_output_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = 0
    return withStatus {
        let handle = try borrowed(model, ModelHandle.self, "model")
        guard let out else { throw KilnError(.nullPointer, "out_count is NULL") }
        out.pointee = handle.model.outputs.count
    }
}

private func describe(_ handle: ModelHandle, inputs: Bool, _ index: Int, _ info: UnsafeMutablePointer<kiln_tensor>?) throws {
    guard let info else { throw KilnError(.nullPointer, "info is NULL") }
    info.pointee = kiln_tensor()
    let list = inputs ? handle.model.inputs : handle.model.outputs
    guard index >= 0 && index < list.count else {
        throw KilnError.invalidArgument("\(inputs ? "input" : "output") index \(index) is out of range (the model has \(list.count))")
    }
    let tensor = list[index]
    guard tensor.shape.count <= Int(KILN_MAX_RANK) else { throw KilnError.unsupported("rank \(tensor.shape.count) exceeds KILN_MAX_RANK") }
    info.pointee.name = UnsafePointer((inputs ? handle.inputNames : handle.outputNames)[index])
    info.pointee.dtype = tensor.dtype.rawValue
    info.pointee.rank = Int32(tensor.shape.count)
    withUnsafeMutableBytes(of: &info.pointee.shape) { raw in
        let dims = raw.bindMemory(to: Int64.self)
        for (axis, dimension) in tensor.shape.enumerated() {
            if case .fixed(let size) = dimension { dims[axis] = Int64(size) } else { dims[axis] = -1 }
        }
    }
}

@_cdecl("kiln_model_input_info")
public func kiln_model_input_info(_ model: OpaquePointer?, _ index: Int, _ info: UnsafeMutablePointer<kiln_tensor>?) -> Int32 {
    withStatus { try describe(try borrowed(model, ModelHandle.self, "model"), inputs: true, index, info) }
}

@_cdecl("kiln_model_output_info")
public func kiln_model_output_info(_ model: OpaquePointer?, _ index: Int, _ info: UnsafeMutablePointer<kiln_tensor>?) -> Int32 {
    withStatus { try describe(try borrowed(model, ModelHandle.self, "model"), inputs: false, index, info) }
}

@_cdecl("kiln_session_default_options")
public func kiln_session_default_options() -> kiln_session_options { kiln_session_options(num_threads: 0) }

@_cdecl("kiln_session_create")
public func kiln_session_create(
    _ model: OpaquePointer?, _ options: UnsafePointer<kiln_session_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let handle = try borrowed(model, ModelHandle.self, "model")
        guard let out else { throw KilnError(.nullPointer, "out_session is NULL") }
        let threads = options.map { Int($0.pointee.num_threads) } ?? 0
        guard threads >= 0 else { throw KilnError.invalidArgument("num_threads must be 0 (default) or positive, got \(threads)") }
        let session = try Session(model: handle.model, options: SessionOptions(threads: threads == 0 ? nil : threads))
        out.pointee = retained(SessionHandle(session, handle))
    }
}

@_cdecl("kiln_session_free")
public func kiln_session_free(_ session: OpaquePointer?) {
    if let session { Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release() }
}

/// Reads the C input tensors: checks names, dtypes and shapes against the model; returns shapes
/// and data pointers in declaration order.
private func readInputs(_ handle: SessionHandle, _ inputs: UnsafePointer<kiln_tensor>?, _ count: Int, needData: Bool) throws -> ([[Int]], [UnsafeRawPointer]) {
    guard count == 0 || inputs != nil else { throw KilnError(.nullPointer, "inputs is NULL") }
    var named: [String: (dtype: DType, shape: [Int])] = [:]
    var data: [String: (pointer: UnsafeMutableRawPointer?, byteSize: Int)] = [:]
    for index in 0..<count {
        let tensor = inputs![index]
        guard let namePointer = tensor.name else { throw KilnError(.nullPointer, "inputs[\(index)].name is NULL") }
        let name = String(cString: namePointer)
        guard let dtype = DType(rawValue: tensor.dtype) else { throw KilnError.invalidArgument("input '\(name)': unknown dtype code \(tensor.dtype)") }
        guard tensor.rank >= 0 && tensor.rank <= KILN_MAX_RANK else {
            throw KilnError.invalidArgument("input '\(name)': rank \(tensor.rank) is outside 0...\(KILN_MAX_RANK)")
        }
        var shapeCopy = tensor.shape
        let shape = withUnsafeBytes(of: &shapeCopy) { Array($0.bindMemory(to: Int64.self).prefix(Int(tensor.rank))) }.map { Int($0) }
        guard named[name] == nil else { throw KilnError.invalidArgument("input '\(name)' is given twice") }
        named[name] = (dtype, shape)
        data[name] = (tensor.data, tensor.byte_size)
    }
    // Names, dtypes and shapes against the model first (the clearest message), then the buffers.
    let shapes = try handle.model.model.ordered(named)
    guard needData else { return (shapes, []) }
    let pointers = try zip(handle.model.model.inputs, shapes).map { info, shape in
        let (pointer, byteSize) = data[info.name]!
        guard let pointer else { throw KilnError(.nullPointer, "input '\(info.name)': data is NULL") }
        let needed = shape.reduce(1, *) * info.dtype.size
        guard byteSize >= needed else {
            throw KilnError.invalidArgument("input '\(info.name)': shape \(shape) of \(info.dtype) needs \(needed) bytes, byte_size is \(byteSize)")
        }
        return UnsafeRawPointer(pointer)
    }
    return (shapes, pointers)
}

/// The output types for these input shapes, checked against the caller's output count.
private func outputTypes(_ handle: SessionHandle, _ shapes: [[Int]], _ outputs: UnsafeMutablePointer<kiln_tensor>?, _ count: Int) throws -> [(dtype: DType, shape: [Int])] {
    let types = try handle.session.outputTypes(forInputShapes: shapes)
    guard count == types.count else { throw KilnError.invalidArgument("the model has \(types.count) outputs, num_outputs is \(count)") }
    guard outputs != nil else { throw KilnError(.nullPointer, "outputs is NULL") }
    if let index = types.firstIndex(where: { $0.shape.count > Int(KILN_MAX_RANK) }) {
        throw KilnError.unsupported("output \(index) has rank \(types[index].shape.count), more than KILN_MAX_RANK")
    }
    return types
}

/// Writes each output's name, dtype, rank and shape into the caller's tensors.
private func describe(_ handle: SessionHandle, _ types: [(dtype: DType, shape: [Int])], into outputs: UnsafeMutablePointer<kiln_tensor>) {
    for (index, type) in types.enumerated() {
        outputs[index].name = UnsafePointer(handle.model.outputNames[index])
        outputs[index].dtype = type.dtype.rawValue
        outputs[index].rank = Int32(type.shape.count)
        withUnsafeMutableBytes(of: &outputs[index].shape) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            for axis in 0..<Int(KILN_MAX_RANK) { dims[axis] = axis < type.shape.count ? Int64(type.shape[axis]) : 0 }
        }
    }
}

@_cdecl("kiln_session_output_shapes")
public func kiln_session_output_shapes(
    _ session: OpaquePointer?, _ inputs: UnsafePointer<kiln_tensor>?, _ inputCount: Int,
    _ outputs: UnsafeMutablePointer<kiln_tensor>?, _ outputCount: Int
) -> Int32 {
    withStatus {
        let handle = try borrowed(session, SessionHandle.self, "session")
        let (shapes, _) = try readInputs(handle, inputs, inputCount, needData: false)
        describe(handle, try outputTypes(handle, shapes, outputs, outputCount), into: outputs!)
    }
}

@_cdecl("kiln_session_run")
public func kiln_session_run(
    _ session: OpaquePointer?, _ inputs: UnsafePointer<kiln_tensor>?, _ inputCount: Int,
    _ outputs: UnsafeMutablePointer<kiln_tensor>?, _ outputCount: Int
) -> Int32 {
    withStatus {
        let handle = try borrowed(session, SessionHandle.self, "session")
        let (shapes, data) = try readInputs(handle, inputs, inputCount, needData: true)
        let types = try outputTypes(handle, shapes, outputs, outputCount)
        let outputs = outputs!
        // Check the caller's buffers before writing anything into them.
        let targets = try types.enumerated().map { index, type in
            let needed = type.shape.reduce(1, *) * type.dtype.size
            guard let pointer = outputs[index].data else { throw KilnError(.nullPointer, "outputs[\(index)].data is NULL") }
            guard outputs[index].byte_size >= needed else {
                throw KilnError.invalidArgument("output \(index) ('\(handle.model.model.outputs[index].name)') of shape \(type.shape) needs \(needed) bytes, byte_size is \(outputs[index].byte_size)")
            }
            return pointer
        }
        try handle.session.run(inputShapes: shapes, inputs: data, outputs: targets)
        describe(handle, types, into: outputs)
    }
}
