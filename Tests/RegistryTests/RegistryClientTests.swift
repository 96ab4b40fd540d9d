import Foundation
import Testing
import HTTP
import TestSupport
import Diagnostics
@testable import Registry

/// Authentication and redirects of the registry client, against scripted answers.
@Suite struct RegistryClientTests {
    func get(_ registry: ScriptedRegistry, _ path: String = "/v2/team/app/manifests/1") throws -> HTTPResponse {
        try RegistryClient(session: registry.session).send(HTTPRequest(method: "GET", url: ScriptedRegistry.base + path),
                                                           scope: RegistryClient.scope("team/app", push: false))
    }

    @Test func basicChallengeIsAnsweredWithTheCredentials() throws {
        let registry = ScriptedRegistry(credentials: Credentials(username: "ci", password: "s3cret"))
        registry.transport.on("GET", "/manifests/1", reply: .answer(401, headers: ["WWW-Authenticate": #"Basic realm="registry""#]))
        registry.transport.on("GET", "/manifests/1") { request in
            request.header("Authorization") == "Basic " + Data("ci:s3cret".utf8).base64EncodedString() ? .answer(200) : .answer(401)
        }
        #expect(try get(registry).status == 200)
        // The challenge is remembered: the next request carries the credentials at once.
        registry.transport.on("GET", "/manifests/2") { request in request.header("Authorization") == nil ? .answer(401) : .answer(200) }
        #expect(try get(registry, "/v2/team/app/manifests/2").status == 200)
    }

    @Test func aBasicChallengeWithoutCredentialsSaysHowToLogIn() throws {
        let registry = ScriptedRegistry()
        registry.transport.on("GET", "/manifests/1", reply: .answer(401, headers: ["WWW-Authenticate": #"Basic realm="registry""#]))
        #expect {
            try get(registry)
        } throws: { error in
            (error as? Failure)?.kind == .authentication && "\(error)".contains("gantry login registry.test")
        }
    }

    /// A refresh token (docker's identitytoken, ACR) goes to the token service as an OAuth2 form, never in a URL.
    @Test func aRefreshTokenIsExchangedByPostingAForm() throws {
        let registry = ScriptedRegistry(credentials: Credentials(identityToken: "refresh-123"))
        registry.transport.on("GET", "/manifests/1", reply: .answer(401, headers: ["WWW-Authenticate": #"Bearer realm="https://auth.test/oauth2/token",service="registry.test",scope="repository:team/app:pull""#]))
        registry.transport.on("POST", "https://auth.test/oauth2/token") { request in
            let form = String(decoding: request.body, as: UTF8.self)
            guard form.contains("grant_type=refresh_token"), form.contains("refresh_token=refresh-123"),
                  form.contains("scope=repository%3Ateam%2Fapp%3Apull"), !request.url.contains("refresh-123") else { return .answer(400) }
            return .answer(200, body: Array(#"{"access_token":"access-1"}"#.utf8))
        }
        registry.transport.on("GET", "/manifests/1") { request in request.header("Authorization") == "Bearer access-1" ? .answer(200) : .answer(401) }
        #expect(try get(registry).status == 200)
    }

    @Test func refusedCredentialsAtTheTokenServiceAreAnAuthenticationError() throws {
        let registry = ScriptedRegistry(credentials: Credentials(username: "ci", password: "wrong"))
        registry.transport.on("GET", "/manifests/1", reply: .answer(401, headers: ["WWW-Authenticate": #"Bearer realm="https://auth.test/token",service="registry.test""#]))
        registry.transport.on("GET", "https://auth.test/token", reply: .answer(401))
        #expect {
            try get(registry)
        } throws: { error in
            (error as? Failure)?.kind == .authentication && "\(error)".contains("refused the credentials (token service answered 401)")
        }
    }

    /// Docker Hub sends blob GETs to a CDN: the credentials stay with the registry.
    @Test func aRedirectToAnotherHostDropsTheCredentials() throws {
        let registry = ScriptedRegistry(credentials: Credentials(username: "ci", password: "s3cret"))
        registry.transport.on("GET", "/manifests/1", reply: .answer(401, headers: ["WWW-Authenticate": #"Basic realm="registry""#]))
        registry.transport.on("GET", "/manifests/1", reply: .answer(307, headers: ["Location": "https://cdn.test/blob?sig=abc"]))
        registry.transport.on("GET", "https://cdn.test/blob") { request in request.header("Authorization") == nil ? .answer(200) : .answer(400) }
        #expect(try get(registry).status == 200)
        registry.transport.on("GET", "/manifests/3", reply: .answer(302, headers: ["Location": "/v2/team/app/manifests/4"]))
        registry.transport.on("GET", "/manifests/4") { request in request.header("Authorization") != nil ? .answer(200) : .answer(400) }
        #expect(try get(registry, "/v2/team/app/manifests/3").status == 200)  // same host: credentials kept
    }

    @Test func aTLSHandshakeFailureSuggestsInsecureRegistry() throws {
        let registry = ScriptedRegistry()
        registry.transport.on("GET", "/manifests/1", reply: .drop(curlCode: 35))
        #expect {
            try get(registry)
        } throws: { error in
            (error as? Failure)?.kind == .unavailable && "\(error)".contains("--insecure-registry registry.test")
                && error.underlying(TransportError.self)?.curlCode == 35
        }
    }
}
