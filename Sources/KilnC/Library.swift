// Version, threads and build information.
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private let versionString = strdup(KilnVersion.string)!

@_cdecl("kiln_version")
public func kiln_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@_cdecl("kiln_abi_version")
public func kiln_abi_version() -> Int32 { Int32(KilnVersion.abi) }

@_cdecl("kiln_set_num_threads")
public func kiln_set_num_threads(_ count: Int32) -> Int32 {
    withStatus { try Threads.setCount(Int(count)) }
}

@_cdecl("kiln_get_num_threads")
public func kiln_get_num_threads() -> Int32 { Int32(Threads.count) }

@_cdecl("kiln_info_json")
public func kiln_info_json(_ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    withStatus {
        guard let out else { throw KilnError(.nullPointer, "kiln_info_json: out_json is NULL") }
        out.pointee = nil
        out.pointee = try ownedCString(SystemInfo.current.json.text)
    }
}
