/// Paths of files under `Tests/KilnCoreTests/Fixtures` (made by numpy; see the README there).
func fixturePath(_ name: String) -> String {
    let thisFile = "\(#filePath)"
    let folder = thisFile[..<thisFile.lastIndex(of: "/")!]
    return "\(folder)/Fixtures/\(name)"
}
