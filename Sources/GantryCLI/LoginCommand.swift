import FoundationEssentials
import Glibc
import ByteStreams
import ArgumentParser
import HTTP
import Registry
import Diagnostics

/// `gantry login REGISTRY -u USER --password-stdin`: checks the credentials
/// against the registry, then stores them in docker's config.json as `docker login` does.
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Store registry credentials in docker's config.json (after checking them).")

    @Argument(help: "Registry host[:port], e.g. myreg.azurecr.io.")
    var registry: String

    @Option(name: .shortAndLong, help: "User name (for an ACR refresh token: 00000000-0000-0000-0000-000000000000).")
    var username: String

    @Flag(help: "Read the password or token from standard input (the only way: never on the command line).")
    var passwordStdin = false

    @OptionGroup var options: RegistryOptions

    func run() throws {
        guard passwordStdin else {
            throw Failure(.usage, "pass the password on standard input with --password-stdin (a password on the command line ends up in shell history)")
        }
        let input = try FileReader.readStandardInput()
        let password = String(decoding: input, as: UTF8.self).trimming(while: \.isNewline)
        guard !password.isEmpty else { throw Failure(.usage, "no password on standard input") }
        var settings = try options.settings()
        let credentials = Credentials(username: username, password: password)
        settings.credentials = CredentialResolver(environment: [:])
        let session = RegistrySession(registry: registry, insecureRegistries: settings.insecureRegistries,
                                      credentials: credentials, options: settings.http)
        let client = try RegistryClient(session: session)
        // GET /v2/ with the credentials: the registry's own answer decides.
        let response = try client.send(HTTPRequest(method: "GET", url: client.url("/v2/")), scope: "registry:catalog:*")
        guard response.isSuccess else { throw client.failure(response, "login") }
        let file = DockerConfigFile()
        try file.saveLogin(registry: registry, username: username, password: password)
        print("Login succeeded: credentials for \(registry) stored in \(file.path)")
    }
}
