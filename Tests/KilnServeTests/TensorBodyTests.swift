import Testing

@testable import KilnServe

/// The predict body scanner against Swift's own correctly rounded parse, on the short decimals
/// of its fast path and on the numbers that must take the long one.
@Suite struct TensorBodyTests {
    @Test func numbersParseExactlyOnBothPaths() throws {
        let texts = ["0", "-0", "0.1234", "-12.5", "3.141592653589793", "9007199254740993", "0.30000000000000004",
                     "123456789012345678901", "1e5", "-2.5E-3", "0.0000000000000000000000001", "1.7976931348623157e308",
                     "4.9e-324", "255", "0.1", "0.7", "99.99"]
        let body = "{\"instances\": [\(texts.joined(separator: ", "))]}"
        let scanned = try #require(TensorBody(Array(body.utf8)))
        #expect(scanned.shape == [texts.count])
        for (text, value) in zip(texts, scanned.values) {
            let expected = try #require(Double(text))
            #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) != \(expected)")
        }
        for bad in ["1.", "-", "1.2.3", "--1", "1e", ".5", "01", "-01.5", "1e+", "1.e5", "+1"] {
            #expect(TensorBody(Array("{\"instances\": [\(bad)]}".utf8)) == nil, "\(bad)")
        }
    }
}
