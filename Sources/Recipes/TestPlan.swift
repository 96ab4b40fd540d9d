import OCI

/// What `gantry test` checks in a running image: the recipe's `test:` section,
/// with flags merged in. Strings may name `${IMAGE_DIGEST}`, `${MODEL_DIGEST}`,
/// `${MODEL_SHA256}`, `${label:KEY}` and `${env:NAME}`, filled in from the image
/// under test (see ImageTest's TestVariables).
public struct TestPlan: Sendable {
    /// Set in the container over the image's own variables.
    public var env: [EnvironmentVariable] = []
    /// The app's port inside the container; nil: the image's first exposed TCP port.
    public var port: Int?
    public var ready = ReadyProbe()
    public var checks: [TestCheck] = []

    public init() {}
}

/// How `gantry test` knows the app has started, as Kubernetes probes do: a
/// request that answers 2xx or 3xx (`httpGet`; any method and body here, or any
/// answer at all with `anyStatus`), or a port that accepts connections (`tcpSocket`).
public struct ReadyProbe: Sendable, Equatable {
    /// A TCP connection to the port is enough (`ready: {tcp: true}`).
    public var tcp = false
    public var method = "GET"
    public var path = "/"
    public var body: HTTPCheck.Body = .none
    /// Any HTTP answer counts, 4xx and 5xx included (`status: any`).
    public var anyStatus = false
    /// Seconds from the container's start.
    public var timeout = 60

    public init(path: String = "/", timeout: Int = 60) {
        self.path = path
        self.timeout = timeout
    }

    /// `GET /`, `POST /predict`, `TCP port` — how reports name the probe.
    public var summary: String { tcp ? "port accepts connections" : "\(method) \(path) answers" }
}

/// One check, run in order after the app is ready.
public struct TestCheck: Sendable {
    public enum Kind: Sendable {
        case http(HTTPCheck)
        case exec(ExecCheck)
    }

    public var name: String
    public var kind: Kind
    /// Seconds the check may take.
    public var timeout: Int
    /// Where it was written (`gantry.yaml:42`, `--get`), for messages.
    public var location: String

    public init(name: String, kind: Kind, timeout: Int = 30, location: String) {
        self.name = name
        self.kind = kind
        self.timeout = timeout
        self.location = location
    }
}

/// An HTTP request to the app and what its answer must be.
public struct HTTPCheck: Sendable {
    public enum Body: Sendable, Equatable {
        case none
        case text(String)
        /// Sent as JSON, with `Content-Type: application/json` unless a header sets one.
        case json(JSONValue)
    }

    public var method: String
    public var path: String
    public var headers: [(String, String)] = []
    public var body: Body = .none
    public var expectedStatus = 200
    /// The answer must be JSON containing this: objects by key (extra keys are
    /// fine), arrays element by element, numbers by value.
    public var expectedJSON: JSONValue?
    /// The answer's body must contain this text.
    public var expectedText: String?

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }
}

/// A command run inside the running container (`runc exec`) and what it must do.
public struct ExecCheck: Sendable, Equatable {
    public var command: [String]
    public var expectedExitCode: Int32 = 0
    /// Standard output and error together must contain this text.
    public var expectedOutput: String?

    public init(command: [String]) {
        self.command = command
    }
}
