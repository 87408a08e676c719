/// The one error type of Kiln. Its `code` maps one to one onto the C ABI's `kiln_status`
/// (`include/kiln.h`); the numbers are pinned and only ever appended.
public struct KilnError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Int32, Sendable, CaseIterable {
        /// An argument is out of its documented range (a dimension, a stride, an option).
        case invalidArgument = 1
        /// A required pointer was NULL (C ABI) or a buffer was missing.
        case nullPointer = 2
        /// A size computation overflowed or memory could not be allocated.
        case outOfMemory = 3
        /// A file could not be opened, read or written.
        case io = 4
        /// Input bytes are not in the expected format (a corrupt `.npy`, ONNX, CSV ...).
        case format = 5
        /// Well-formed input that Kiln does not support (a dtype, an operator ...).
        case unsupported = 6
        /// Shapes, ranks or dtypes do not fit together.
        case shapeMismatch = 7
        /// A named thing (input, model, feature) does not exist.
        case notFound = 8
        /// A bug in Kiln: please report it.
        case internalError = 9

        /// The static string `kiln_status_string` returns.
        public var name: String {
            switch self {
            case .invalidArgument: "invalid argument"
            case .nullPointer: "null pointer"
            case .outOfMemory: "out of memory"
            case .io: "i/o error"
            case .format: "malformed input"
            case .unsupported: "unsupported"
            case .shapeMismatch: "shape mismatch"
            case .notFound: "not found"
            case .internalError: "internal error"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func invalidArgument(_ message: String) -> KilnError { KilnError(.invalidArgument, message) }
    public static func format(_ message: String) -> KilnError { KilnError(.format, message) }
    public static func unsupported(_ message: String) -> KilnError { KilnError(.unsupported, message) }
    public static func shapeMismatch(_ message: String) -> KilnError { KilnError(.shapeMismatch, message) }
    public static func io(_ message: String) -> KilnError { KilnError(.io, message) }
}
