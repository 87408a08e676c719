import KilnCore
import Testing

@Suite struct Base64Tests {
    @Test func decodesRFC4648Vectors() throws {
        let vectors = ["": "", "Zg==": "f", "Zm8=": "fo", "Zm9v": "foo", "Zm9vYg==": "foob", "Zm9vYmE=": "fooba", "Zm9vYmFy": "foobar",
                       "Zm9vYg": "foob"]
        for (encoded, plain) in vectors { #expect(try Base64.decode(encoded) == Array(plain.utf8), "\(encoded)") }
        #expect(try Base64.decode("-_8=") == [0xFB, 0xFF])  // URL-safe alphabet
        #expect(try Base64.decode("+/8=") == [0xFB, 0xFF])
    }

    @Test func rejectsWhatIsNotBase64() {
        for bad in ["***", "Zm9v!", "Z", "Zm9vY"] { #expect(throws: KilnError.self, "\(bad)") { try Base64.decode(bad) } }
    }
}
