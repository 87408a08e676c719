/// Element types a `Tensor` can hold. Raw values are the C ABI's `kiln_dtype` codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case uint8 = 2
    case int32 = 3
    case int64 = 4

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .uint8: 1
        case .int64: 8
        }
    }

    public var description: String {
        switch self {
        case .float32: "float32"
        case .uint8: "uint8"
        case .int32: "int32"
        case .int64: "int64"
        }
    }
}

/// A Swift type that a `Tensor` can store, tied to its `DType`.
public protocol TensorElement: BitwiseCopyable, Sendable {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
