import Testing

@testable import KilnCore

@Suite struct KilnErrorTests {
    /// The codes are the C ABI's `kiln_status` values: pinned, so a change here breaks callers.
    @Test func codesArePinned() {
        let pinned: [(KilnError.Code, Int32)] = [
            (.invalidArgument, 1), (.nullPointer, 2), (.outOfMemory, 3), (.io, 4), (.format, 5),
            (.unsupported, 6), (.shapeMismatch, 7), (.notFound, 8), (.internalError, 9),
        ]
        #expect(pinned.count == KilnError.Code.allCases.count)
        for (code, value) in pinned { #expect(code.rawValue == value) }
    }

    @Test func headerDeclaresTheSameCodesAndVersion() throws {
        let header = String(decoding: try FileIO.read(fixturePath("../../../include/kiln.h")), as: UTF8.self)
        for (name, code) in [("INVALID_ARGUMENT", 1), ("NULL_POINTER", 2), ("OUT_OF_MEMORY", 3), ("IO", 4),
                             ("FORMAT", 5), ("UNSUPPORTED", 6), ("SHAPE_MISMATCH", 7), ("NOT_FOUND", 8), ("INTERNAL", 9)] {
            #expect(header.contains("KILN_ERR_\(name) = \(code),") || header.contains("KILN_ERR_\(name) = \(code) "))
        }
        #expect(header.contains("#define KILN_VERSION_MAJOR \(KilnVersion.major)\n"))
        #expect(header.contains("#define KILN_VERSION_MINOR \(KilnVersion.minor)\n"))
        #expect(header.contains("#define KILN_VERSION_PATCH \(KilnVersion.patch)\n"))
        #expect(header.contains("#define KILN_ABI_VERSION \(KilnVersion.abi)\n"))
    }
}
