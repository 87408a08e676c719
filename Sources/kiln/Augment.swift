import ArgumentParser
import KilnCore
import KilnVision

struct Augment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Augment images with a pipeline (JSON, albumentations' names): output i of copy k is sample i*K+k of --seed.",
        discussion: "A final Normalize only makes tensors; the files are written before it.")

    @Option(help: "The pipeline description (JSON).") var pipeline: String
    @Option(help: "The seed: the same seed gives the same bytes.") var seed: UInt64 = 0
    @Option(help: "Augmented copies per image.") var copies = 1
    @Option(help: "Where to write IMAGE_STEM_k.EXT.") var outputDir: String
    @Option(help: "png or jpeg (default: the input's format).") var format: String?
    @Option(help: "JPEG quality, 1...100.") var quality = 95
    @Option(help: "Write each sample's sampled parameters here (JSON).") var replay: String?
    @Option(help: "Also write a PNG grid of every input and its copies here.") var contactSheet: String?
    @Argument(help: "JPEG or PNG images.") var images: [String]

    func run() throws {
        guard copies >= 1 else { throw ValidationError("--copies must be at least 1") }
        let forcedFormat = try format.map { name -> ImageFormat in
            guard let value = ImageFormat(rawValue: name == "jpg" ? "jpeg" : name) else { throw ValidationError("--format is png or jpeg") }
            return value
        }
        let pipeline = try Pipeline(json: String(decoding: try FileIO.read(self.pipeline), as: UTF8.self))
        try FileIO.makeDirectory(outputDir)
        var records: [JSONValue] = []
        var sheet: [Image] = []
        for (position, path) in images.enumerated() {
            let bytes = try FileIO.read(path)
            let image: Image
            do { image = try ImageCodec.decode(bytes) } catch let error as KilnError { throw KilnError(error.code, "\(path): \(error.message)") }
            let format = forcedFormat ?? ImageFormat.detect(bytes) ?? .png
            if contactSheet != nil { sheet.append(image) }
            let stem = String(path.split(separator: "/").last!.split(separator: ".", omittingEmptySubsequences: false).dropLast().joined(separator: "."))
            for copy in 0..<copies {
                let index = position * copies + copy
                let sample = try pipeline.sample(image, seed: seed, index: index)
                let name = "\(outputDir)/\(stem)_\(copy).\(format == .jpeg ? "jpg" : "png")"
                try ImageCodec.write(sample.image, to: name, format: format, quality: quality)
                if contactSheet != nil { sheet.append(sample.image) }
                records.append(.object([("input", .string(path)), ("output", .string(name)), ("index", .int(index)),
                                        ("transforms", .array(sample.replay.map(\.json)))]))
            }
        }
        if let replay {
            try FileIO.write(Array((JSONValue.object([("seed", .int(Int(seed))), ("samples", .array(records))]).pretty + "\n").utf8), to: replay)
        }
        if let contactSheet {
            try ImageCodec.write(try ContactSheet.make(sheet, columns: copies + 1), to: contactSheet, format: .png)
        }
        print("wrote \(records.count) image(s) to \(outputDir)" + (contactSheet.map { " and a contact sheet to \($0)" } ?? ""))
        if pipeline.normalize != nil { printToStandardError("note: Normalize makes tensors; the images were written before it") }
    }
}

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Inspect images.", subcommands: [ImageInfo.self])
}

struct ImageInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Size, channels and format of JPEG and PNG files (EXIF orientation applied).")
    @Flag(help: "One JSON object per image.") var json = false
    @Argument(help: "JPEG or PNG images.") var images: [String]

    func run() throws {
        for path in images {
            let info: (width: Int, height: Int, channels: Int, format: ImageFormat)
            do { info = try ImageCodec.info(try FileIO.read(path)) } catch let error as KilnError { throw KilnError(error.code, "\(path): \(error.message)") }
            if json {
                print(JSONValue.object([("path", .string(path)), ("width", .int(info.width)), ("height", .int(info.height)),
                                        ("channels", .int(info.channels)), ("format", .string(info.format.rawValue))]).text)
            } else {
                print("\(path)  \(info.width)×\(info.height)  \(info.channels) channel\(info.channels == 1 ? "" : "s")  \(info.format.rawValue)")
            }
        }
    }
}
