/// One alternative of a dependency field: `name[:arch] [(op version)]`.
public struct PackageRelation: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case earlier = "<<", earlierOrEqual = "<=", equal = "=", laterOrEqual = ">=", later = ">>"
    }

    public var name: String
    /// `any`, `native` or an architecture, from `name:qualifier`.
    public var architecture: String?
    public var constraint: (op: Operator, version: DebianVersion)?

    public static func == (a: PackageRelation, b: PackageRelation) -> Bool {
        a.name == b.name && a.architecture == b.architecture && a.constraint?.op == b.constraint?.op
            && a.constraint?.version == b.constraint?.version
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    public var description: String {
        let arch = architecture.map { ":" + $0 } ?? ""
        guard let constraint else { return name + arch }
        return "\(name)\(arch) (\(constraint.op.rawValue) \(constraint.version))"
    }

    /// Whether `version` meets this relation's version constraint.
    public func accepts(_ version: DebianVersion) -> Bool {
        guard let constraint else { return true }
        let order = DebianVersion.compare(version, constraint.version)
        switch constraint.op {
        case .earlier: return order < 0
        case .earlierOrEqual: return order <= 0
        case .equal: return order == 0
        case .laterOrEqual: return order >= 0
        case .later: return order > 0
        }
    }

    /// A dependency field (`Depends`, `Pre-Depends`, `Conflicts`, `Provides`…) as
    /// groups of alternatives. Architecture restrictions (`[amd64]`) keep the
    /// alternative only for the architectures they name; build profiles
    /// (`<!nocheck>`) are dropped, as dpkg does for binary packages. Throws on a
    /// relation it cannot read, naming it.
    public static func parseField(_ text: String, architecture: String) throws -> [[PackageRelation]] {
        var groups: [[PackageRelation]] = []
        for group in text.split(separator: ",") {
            var alternatives: [PackageRelation] = []
            for alternative in group.split(separator: "|") {
                var item = Substring(alternative.trimmingSpaces)
                if item.isEmpty { continue }
                // Build profiles are for source packages only.
                if let angle = item.firstIndex(of: "<"), !item[..<angle].contains("(") {
                    item = item[..<angle]
                }
                var restrictions: [Substring] = []
                if let open = item.firstIndex(of: "["), let close = item.lastIndex(of: "]"), open < close {
                    restrictions = item[item.index(after: open)..<close].split(separator: " ")
                    item = item[..<open] + item[item.index(after: close)...]
                }
                if !restrictions.isEmpty {
                    let negated = restrictions.allSatisfy { $0.hasPrefix("!") }
                    let named = restrictions.map { $0.hasPrefix("!") ? $0.dropFirst() : $0 }.contains { $0 == architecture }
                    if negated ? named : !named { continue }
                }
                var constraint: (Operator, DebianVersion)?
                if let open = item.firstIndex(of: "(") {
                    guard let close = item.lastIndex(of: ")"), open < close else { throw RelationError(text: String(alternative)) }
                    var inner = item[item.index(after: open)..<close].trimmingSpaces
                    let op: Operator
                    if let found = [Operator.earlierOrEqual, .laterOrEqual, .earlier, .later, .equal].first(where: { inner.hasPrefix($0.rawValue) }) {
                        op = found
                        inner = String(inner.dropFirst(found.rawValue.count))
                    } else if inner.hasPrefix("<") {  // obsolete forms, as dpkg reads them
                        op = .earlierOrEqual
                        inner = String(inner.dropFirst())
                    } else if inner.hasPrefix(">") {
                        op = .laterOrEqual
                        inner = String(inner.dropFirst())
                    } else {
                        throw RelationError(text: String(alternative))
                    }
                    guard let version = DebianVersion(inner.trimmingSpaces) else { throw RelationError(text: String(alternative)) }
                    constraint = (op, version)
                    item = item[..<open]
                }
                let nameText = item.trimmingSpaces
                guard !nameText.isEmpty, !nameText.contains(" ") else { throw RelationError(text: String(alternative)) }
                let parts = nameText.split(separator: ":", maxSplits: 1)
                alternatives.append(PackageRelation(name: String(parts[0]), architecture: parts.count > 1 ? String(parts[1]) : nil,
                                                    constraint: constraint))
            }
            if !alternatives.isEmpty { groups.append(alternatives) }
        }
        return groups
    }
}

/// A relation field that is not Debian syntax.
public struct RelationError: Error, CustomStringConvertible {
    public var text: String
    public var description: String { "'\(text.trimmingSpaces)' is not a package relation" }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" }.reversed())
    }
}
