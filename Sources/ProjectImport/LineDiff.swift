/// A unified-style line diff (`-` old, `+` new, two lines of context), for
/// showing what `gantry init --force` replaces. Longest common subsequence over
/// lines: recipes are small.
public enum LineDiff {
    public static func lines(from old: String, to new: String, context: Int = 2) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count * b.count <= 4_000_000 else { return ["- (\(a.count) lines)", "+ (\(b.count) lines)"] }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var edits: [(Character, String)] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] { edits.append((" ", a[i])); i += 1; j += 1 }
            // Removals before additions at a change, as diff(1) prints them.
            else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] { edits.append(("-", a[i])); i += 1 }
            else { edits.append(("+", b[j])); j += 1 }
        }
        // Keep changed lines and `context` unchanged lines around them.
        let changed = edits.indices.filter { edits[$0].0 != " " }
        return edits.indices.filter { index in changed.contains { abs($0 - index) <= context } }
            .map { "\(edits[$0].0) \(edits[$0].1)" }
    }
}
