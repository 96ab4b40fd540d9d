import CYAML

/// A YAML text that libyaml refused, or that this reader will not expand.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Parses one YAML document into a `YAMLNode` tree with libyaml (Debian's
/// libyaml-0-2, the parser Yams and PyYAML wrap), driven event by event.
///
/// gantry's own small reader rather than Yams: Yams imports Foundation, and
/// linking Foundation (with CoreFoundation and ICU) costs every gantry run ~5 MiB
/// of memory; only FoundationEssentials is linked.
public enum YAMLParser {
    /// A document may repeat anchored nodes through aliases; a "billion laughs"
    /// document would expand exponentially, so the expanded size is capped.
    public static let maximumNodes = 100_000
    /// Collections nested deeper than this are refused where they open: a recipe
    /// nests a handful of levels, and libyaml's work per token grows with the depth
    /// (a 50,000-deep `[[[…]]]` took seconds, then overflowed the stack).
    public static let maximumDepth = 64

    /// The document's root; nil for a text with no document (empty, or comments only).
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            throw YAMLError(description: "cannot start the YAML parser (out of memory)")
        }
        defer {
            yaml_parser_delete(parser)
            parser.deallocate()
        }
        // libyaml reads the bytes in place: they must outlive the parse.
        var bytes = Array(text.utf8)
        bytes.append(0)  // never read (the length excludes it); keeps the buffer non-empty
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> YAMLNode? in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count - 1)
            var builder = TreeBuilder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(parser, &event) == 1 else { throw failure(parser.pointee) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return builder.root }
                try builder.add(event)
            }
        }
    }

    /// libyaml's own words, placed: "line 3, column 5: did not find expected key
    /// while parsing a block mapping that starts at line 2, column 3".
    static func failure(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
        if parser.error == YAML_READER_ERROR {
            return YAMLError(description: "byte \(parser.problem_offset): \(problem)")
        }
        var text = "\(mark(parser.problem_mark)): \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            text += " \(context) that starts at \(mark(parser.context_mark))"
        }
        return YAMLError(description: text)
    }

    static func mark(_ mark: yaml_mark_t) -> YAMLMark {
        YAMLMark(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Turns libyaml's events into nodes: open collections on a stack, anchored
/// nodes remembered for aliases, each node's expanded size counted.
struct TreeBuilder {
    /// A sequence or mapping whose end event has not come yet.
    private struct Open {
        let isMapping: Bool
        let mark: YAMLMark
        let anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        /// Values inside, aliases expanded, itself included.
        var size = 1
    }

    private(set) var root: YAMLNode?
    private var documents = 0
    private var stack: [Open] = []
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Whether an alias was expanded: what the size limit's message names as the cause.
    private var aliasesExpanded = false

    mutating func add(_ event: yaml_event_t) throws(YAMLError) {
        let mark = YAMLParser.mark(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            guard documents == 1 else {
                throw YAMLError(description: "\(mark): a second YAML document ('---'); the file must hold one document")
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = data.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self) } ?? ""
            let scalar = YAMLScalar(text: text, style: Self.style(data.style), tag: YAMLParser.string(data.tag), mark: mark)
            try finish(.scalar(scalar), size: 1, anchor: YAMLParser.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = YAMLParser.string(event.data.alias.anchor) ?? ""
            guard let anchored = anchors[name] else {
                throw YAMLError(description: "\(mark): alias *\(name) names no anchor (&\(name)) defined before it")
            }
            aliasesExpanded = true
            try finish(anchored.node, size: anchored.size, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            try checkDepth(at: mark)
            stack.append(Open(isMapping: false, mark: mark, anchor: YAMLParser.string(event.data.sequence_start.anchor)))
        case YAML_MAPPING_START_EVENT:
            try checkDepth(at: mark)
            stack.append(Open(isMapping: true, mark: mark, anchor: YAMLParser.string(event.data.mapping_start.anchor)))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let open = stack.popLast() else { return }
            let node: YAMLNode = open.isMapping ? .mapping(open.pairs, open.mark) : .sequence(open.items, open.mark)
            try finish(node, size: open.size, anchor: open.anchor)
        default:
            break  // stream start, document end: nothing to build
        }
    }

    private func checkDepth(at mark: YAMLMark) throws(YAMLError) {
        guard stack.count < YAMLParser.maximumDepth else {
            throw YAMLError(description: "\(mark): lists and mappings nest more than \(YAMLParser.maximumDepth) levels deep here; a recipe needs a few")
        }
    }

    /// A complete node goes into the collection that is open, or becomes the root.
    private mutating func finish(_ node: YAMLNode, size: Int, anchor: String?) throws(YAMLError) {
        if let anchor { anchors[anchor] = (node, size) }
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        stack[top].size += size
        guard stack[top].size <= YAMLParser.maximumNodes else {
            if aliasesExpanded {
                throw YAMLError(description: "\(node.mark): the document expands to more than \(YAMLParser.maximumNodes) values through aliases; write it out plainly")
            }
            throw YAMLError(description: "\(node.mark): the document holds more than \(YAMLParser.maximumNodes) values; a recipe this large is not supported")
        }
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            stack[top].pairs.append(YAMLPair(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            stack[top].pendingKey = node
        }
    }

    static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }
}
