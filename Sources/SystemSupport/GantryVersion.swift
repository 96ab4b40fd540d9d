/// gantry's version, where every part of it can read it: `gantry --version`, the
/// HTTP User-Agent (`gantry/0.2.0`), provenance's builder version, and the release
/// artifacts' names (scripts/release reads it from here).
public enum GantryVersion {
    public static let number = "0.2.0"
}
