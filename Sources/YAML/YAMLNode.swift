/// A YAML document as a tree, as libyaml parsed it: scalars keep their text,
/// style and explicit tag, so a reader decides what `null`, `yes` or `8080` mean
/// for each field; mappings keep their keys in order, duplicates included (the
/// reader reports them).
public indirect enum YAMLNode: Sendable {
    case scalar(YAMLScalar)
    case mapping([YAMLPair], YAMLMark)
    case sequence([YAMLNode], YAMLMark)

    /// Where the node starts in the text.
    public var mark: YAMLMark {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .mapping(_, let mark), .sequence(_, let mark): return mark
        }
    }
}

public struct YAMLPair: Sendable {
    public let key: YAMLNode
    public let value: YAMLNode
}

/// A position in the text, 1-based as editors show it.
public struct YAMLMark: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public var description: String { "line \(line), column \(column)" }
}

public struct YAMLScalar: Sendable {
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

    public let text: String
    public let style: Style
    /// The explicit tag (`!!str` is `tag:yaml.org,2002:str`), nil when there is none.
    public let tag: String?
    public let mark: YAMLMark

    /// YAML's null: an untagged plain `~`, `null`, `Null`, `NULL` or nothing at all
    /// (`key:` with no value), or anything tagged `!!null`.
    public var isNull: Bool {
        if let tag { return tag == "tag:yaml.org,2002:null" }
        return style == .plain && ["", "~", "null", "Null", "NULL"].contains(text)
    }
}
