import Testing
@testable import Registry
@testable import HTTP

@Suite struct AuthChallengeTests {
    @Test func parsesBearerWithQuotedCommas() throws {
        let challenge = try #require(AuthChallenge(header: #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.realm == "https://auth.example/token")
        #expect(challenge.service == "registry.example")
        #expect(challenge.scope == "repository:a/b:pull,push")
    }

    @Test func parsesBasic() throws {
        let challenge = try #require(AuthChallenge(header: #"Basic realm="Registry Realm""#))
        #expect(challenge.scheme == "basic")
        #expect(challenge.realm == "Registry Realm")
    }

    @Test func acrRefreshTokenUserMeansOAuthRefresh() {
        let acr = Credentials(username: Credentials.acrTokenUser, password: "refresh-token")
        #expect(acr.refreshToken == "refresh-token")
        #expect(acr.basicAuthorization == nil)
        let basic = Credentials(username: "u", password: "p")
        #expect(basic.basicAuthorization == "Basic dTpw")
    }
}

@Suite struct RedactorTests {
    @Test(arguments: [
        ("https://acct.blob.core.windows.net/c/model.bin?sv=2022-11-02&sig=SECRETSIG&se=2030",
         "https://acct.blob.core.windows.net/c/model.bin?sv=2022-11-02&sig=REDACTED&se=REDACTED"),
        ("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc",
         "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"),
        ("https://user:pass@host/path", "https://***@host/path"),
        ("http://127.0.0.1:5000/v2/a/blobs/uploads/x?_state=abc", "http://127.0.0.1:5000/v2/a/blobs/uploads/x?_state=abc"),
    ])
    func redactsSecretsInURLs(_ url: String, _ expected: String) {
        #expect(Redactor.url(url) == expected)
    }

    @Test func redactsAuthorizationHeaders() {
        #expect(Redactor.header("Authorization", "Bearer abc") == "Authorization: REDACTED")
        #expect(Redactor.header("Accept", "x") == "Accept: x")
    }
}

@Suite struct RegistrySessionTests {
    @Test(arguments: [
        ("127.0.0.1:5000", [String](), "http://127.0.0.1:5000"),
        ("localhost:5000", [], "http://localhost:5000"),
        ("myreg.azurecr.io", [], "https://myreg.azurecr.io"),
        ("docker.io", [], "https://registry-1.docker.io"),
        ("build-host:5000", ["build-host:5000"], "http://build-host:5000"),
        ("other:5000", ["build-host:5000"], "https://other:5000"),
    ])
    func plainHTTPOnlyForLoopbackOrNamedHosts(_ registry: String, _ insecure: [String], _ expected: String) {
        let session = RegistrySession(registry: registry, insecureRegistries: insecure, credentials: nil,
                                      options: HTTPOptions(), environment: [:])
        #expect(session.baseURL == expected)
    }
}
