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
        if options.ngramRange == 1...1 {
            forEachWord(text, body)
            return
        }
        // N-grams: the words gathered first (the same words as unigrams), then joined.
        scratch.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        forEachWord(text) { word in
            let begin = scratch.count
            scratch.append(contentsOf: word)
            tokens.append(begin..<scratch.count)
        }
        guard !tokens.isEmpty else { return }
        scratch.withUnsafeBufferPointer { letters in
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

    /// Unigrams: each word passed straight from the text, copied (lower-cased) only when it
    /// holds an upper-case letter that must be lowered.
    @inline(__always)
    private func forEachWord(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let count = text.count
        var index = 0
        while index < count {
            while index < count && !Self.isWordByte(text[index]) { index += 1 }
            let start = index
            var hasUpper = false
            while index < count {
                let byte = text[index]
                guard Self.isWordByte(byte) else { break }
                hasUpper = hasUpper || (byte &- 0x41) < 26
                index += 1
            }
            guard index - start >= 2 else { continue }
            let word = UnsafeBufferPointer(rebasing: text[start..<index])
            guard hasUpper && options.lowercase else {
                body(word)
                continue
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: word.count) { lowered in
                for (position, byte) in word.enumerated() { lowered[position] = (byte &- 0x41) < 26 ? byte | 0x20 : byte }
                body(UnsafeBufferPointer(lowered))
            }
        }
    }
}
