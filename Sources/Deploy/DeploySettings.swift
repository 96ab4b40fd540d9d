import Diagnostics

/// `deploy:` in gantry.yaml, with flags applied: what the Kubernetes manifests say.
public struct DeploySettings: Sendable, Equatable {
    public var name: String?
    public var namespace = "default"
    public var replicas = 2
    /// The container's port; default: the image's first exposed port, else 8080.
    public var containerPort: Int?
    public var servicePort = 80
    /// LoadBalancer (a public IP on AKS) or ClusterIP.
    public var serviceType = "LoadBalancer"
    public var healthPath = "/"
    public var env: [(String, String)] = []
    public var cpuRequest = "100m"
    public var memoryRequest = "128Mi"
    public var cpuLimit = "1"
    public var memoryLimit = "512Mi"
    public var imagePullSecret: String?
    /// An HPA between these replica counts at this average CPU utilisation (%).
    public var autoscale: Autoscale?
    /// Default: the image's numeric USER, else 1000.
    public var runAsUser: Int?
    public var runAsGroup: Int?
    /// How long the app may take to start (loading a big model): the startupProbe's
    /// budget, during which the liveness probe does not run.
    public var startupSeconds = 300
    /// How the model reaches the pod when it is an image of its own.
    public var modelDelivery: ModelDelivery = .auto

    public enum ModelDelivery: String, Sendable, Equatable, CaseIterable {
        /// An image volume when the cluster has them (Kubernetes ≥ 1.35), else an error.
        case auto
        /// Always an `image` volume pinned by digest.
        case imageVolume = "image-volume"
        /// The model inside the app image (the build keeps it there; no volume).
        case baked
    }

    public struct Autoscale: Sendable, Equatable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetCPU: Int

        public init(minReplicas: Int = 2, maxReplicas: Int = 5, targetCPU: Int = 70) {
            self.minReplicas = minReplicas
            self.maxReplicas = maxReplicas
            self.targetCPU = targetCPU
        }
    }

    public init() {}

    public static func == (a: DeploySettings, b: DeploySettings) -> Bool {
        a.name == b.name && a.namespace == b.namespace && a.replicas == b.replicas && a.containerPort == b.containerPort
            && a.servicePort == b.servicePort && a.serviceType == b.serviceType && a.healthPath == b.healthPath
            && a.env.map { "\($0.0)=\($0.1)" } == b.env.map { "\($0.0)=\($0.1)" } && a.cpuRequest == b.cpuRequest
            && a.memoryRequest == b.memoryRequest && a.cpuLimit == b.cpuLimit && a.memoryLimit == b.memoryLimit
            && a.imagePullSecret == b.imagePullSecret && a.autoscale == b.autoscale && a.runAsUser == b.runAsUser
            && a.runAsGroup == b.runAsGroup && a.startupSeconds == b.startupSeconds && a.modelDelivery == b.modelDelivery
    }

    /// Keys `--set` (and `deploy:` in the recipe) accept.
    public static let keys = ["name", "namespace", "replicas", "port", "servicePort", "serviceType", "healthPath",
                              "cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit", "imagePullSecret",
                              "autoscale.minReplicas", "autoscale.maxReplicas", "autoscale.targetCPU",
                              "runAsUser", "runAsGroup", "startupSeconds", "modelDelivery", "env.<NAME>"]

    /// Sets one value by key, as `--set key=value` does; `source` names where it came from in errors.
    public mutating func set(_ key: String, _ value: String, source: String) throws {
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw Failure(.usage, "\(source): \(key) must be a whole number in \(range.lowerBound)...\(range.upperBound), not '\(value)'")
            }
            return number
        }
        switch Self.aliases[key] ?? key {
        case "name":
            guard DeploySettings.isDNSLabel(value) else {
                throw Failure(.usage, "\(source): name '\(value)' must be a DNS label: lowercase letters, digits and '-', at most 63, starting with a letter")
            }
            name = value
        case "namespace":
            guard DeploySettings.isDNSLabel(value) else { throw Failure(.usage, "\(source): namespace '\(value)' must be a DNS label") }
            namespace = value
        case "replicas": replicas = try integer(0...1000)
        case "port": containerPort = try integer(1...65535)
        case "servicePort": servicePort = try integer(1...65535)
        case "serviceType":
            guard ["LoadBalancer", "ClusterIP", "NodePort"].contains(value) else {
                throw Failure(.usage, "\(source): serviceType must be LoadBalancer, ClusterIP or NodePort, not '\(value)'")
            }
            serviceType = value
        case "healthPath":
            guard value.hasPrefix("/") else { throw Failure(.usage, "\(source): healthPath must start with '/'") }
            healthPath = value
        case "cpuRequest": cpuRequest = value
        case "memoryRequest": memoryRequest = value
        case "cpuLimit": cpuLimit = value
        case "memoryLimit": memoryLimit = value
        case "imagePullSecret": imagePullSecret = value.isEmpty ? nil : value
        case "autoscale.minReplicas": autoscale = autoscale ?? Autoscale(); autoscale?.minReplicas = try integer(1...1000)
        case "autoscale.maxReplicas": autoscale = autoscale ?? Autoscale(); autoscale?.maxReplicas = try integer(1...1000)
        case "autoscale.targetCPU": autoscale = autoscale ?? Autoscale(); autoscale?.targetCPU = try integer(1...100)
        case "runAsUser": runAsUser = try integer(1...2_147_483_647)
        case "runAsGroup": runAsGroup = try integer(0...2_147_483_647)
        case "startupSeconds": startupSeconds = try integer(5...86_400)
        case "modelDelivery":
            guard let delivery = ModelDelivery(rawValue: value) else {
                throw Failure(.usage, "\(source): modelDelivery must be auto, image-volume or baked, not '\(value)'")
            }
            modelDelivery = delivery
        default:
            if key.hasPrefix("env."), key.count > 4 {
                let variable = String(key.dropFirst(4))
                env.removeAll { $0.0 == variable }
                env.append((variable, value))
            } else {
                throw Failure(.usage, "\(source): unknown deploy key '\(key)'; known: \(DeploySettings.keys.joined(separator: ", "))")
            }
        }
    }

    /// The recipe's nested spelling of some keys.
    static let aliases = ["resources.requests.cpu": "cpuRequest", "resources.requests.memory": "memoryRequest",
                          "resources.limits.cpu": "cpuLimit", "resources.limits.memory": "memoryLimit",
                          "containerPort": "port"]

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
              first >= 97 && first <= 122, last != 45 else { return false }
        return bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }
}
