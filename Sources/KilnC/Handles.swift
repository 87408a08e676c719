// Opaque handles: Swift objects passed to C retained, and borrowed back with a NULL check.
import KilnCore

func retained<T: AnyObject>(_ object: T) -> OpaquePointer { OpaquePointer(Unmanaged.passRetained(object).toOpaque()) }

func borrowed<T: AnyObject>(_ pointer: OpaquePointer?, _ type: T.Type, _ what: String) throws -> T {
    guard let pointer else { throw KilnError(.nullPointer, "\(what) is NULL") }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

func release<T: AnyObject>(_ pointer: OpaquePointer?, _ type: T.Type) {
    if let pointer { Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).release() }
}

/// A required C string argument.
func string(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let pointer else { throw KilnError(.nullPointer, "\(what) is NULL") }
    return String(cString: pointer)
}

/// A required out-parameter, cleared on entry.
func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ what: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw KilnError(.nullPointer, "\(what) is NULL") }
    return pointer
}
