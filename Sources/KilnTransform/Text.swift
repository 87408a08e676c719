/// Splits text into terms as `TextOptions` describe, calling `body` with each term's bytes
/// (n-grams joined by one space). Allocation-free apart from the reusable `scratch`.
struct Tokenizer {
    let options: TextOptions

    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F || byte >= 0x80
    }

    func forEachTerm(
        _ text: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8], tokens: inout [Range<Int>],
        _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        scratch.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        var index = 0
        while index < text.count {
            while index < text.count && !Self.isWordByte(text[index]) { index += 1 }
            let start = index
            while index < text.count && Self.isWordByte(text[index]) { index += 1 }
            if index - start >= 2 {
                let begin = scratch.count
                for position in start..<index {
                    let byte = text[position]
                    scratch.append(options.lowercase && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                }
                tokens.append(begin..<scratch.count)
            }
        }
        guard !tokens.isEmpty else { return }
        scratch.withUnsafeBufferPointer { letters in
            if options.ngramRange == 1...1 {
                for token in tokens { body(UnsafeBufferPointer(rebasing: letters[token])) }
                return
            }
            var joined: [UInt8] = []
            for length in options.ngramRange {
                guard length <= tokens.count else { break }
                for first in 0...(tokens.count - length) {
                    if length == 1 {
                        body(UnsafeBufferPointer(rebasing: letters[tokens[first]]))
                        continue
                    }
                    joined.removeAll(keepingCapacity: true)
                    for part in first..<first + length {
                        if part > first { joined.append(0x20) }
                        joined.append(contentsOf: letters[tokens[part]])
                    }
                    joined.withUnsafeBufferPointer(body)
                }
            }
        }
    }
}
