import Testing
@testable import ProjectImport

/// Dockerfiles read as Docker's parser reads them, and translated as gantry init does.
@Suite struct DockerfileTests {
    @Test func continuationsCommentsDirectivesAndForms() throws {
        let text = """
        # syntax=docker/dockerfile:1
        # escape=\\

        FROM python:3.12-slim AS base
        # a comment
        run apt-get update && \\
            # a comment inside the continuation

            apt-get install -y --no-install-recommends libgomp1 \\
              curl
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        ENTRYPOINT [not json
        COPY --chown=1000:1000 --chmod=755 . /app
        """
        let dockerfile = try Dockerfile(text: text, path: "Dockerfile")
        #expect(dockerfile.directives == ["syntax": "docker/dockerfile:1", "escape": "\\"])
        #expect(dockerfile.instructions.map(\.keyword) == ["FROM", "RUN", "CMD", "ENTRYPOINT", "COPY"])
        #expect(dockerfile.instructions.map(\.line) == [4, 6, 11, 12, 13])
        #expect(dockerfile.instructions[1].arguments == .shell("apt-get update &&     apt-get install -y --no-install-recommends libgomp1       curl"))
        #expect(dockerfile.instructions[2].arguments == .exec(["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]))
        #expect(dockerfile.instructions[3].arguments == .shell("[not json"))
        #expect(dockerfile.instructions[4].flags == ["chown": "1000:1000", "chmod": "755"])
    }

    @Test func backtickEscapeAndHeredocs() throws {
        let text = "# escape=`\nFROM debian\nRUN echo a `\n  b\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-CONF /etc/app.conf\n\tkey=value\n\tCONF\nUSER app\n"
        let dockerfile = try Dockerfile(text: text, path: "Dockerfile")
        #expect(dockerfile.instructions.map(\.keyword) == ["FROM", "RUN", "RUN", "COPY", "USER"])
        #expect(dockerfile.instructions[1].arguments.text == "echo a   b")
        #expect(dockerfile.instructions[2].heredocs.first?.body == "echo one\necho two\n")
        #expect(dockerfile.instructions[3].heredocs.first?.body == "key=value\n")
        #expect(dockerfile.instructions[4].line == 12)
    }

    @Test(arguments: [
        ("FROM python\nFORM x\n", "Dockerfile:2:1: dockerfile parse error: unknown instruction: FORM"),
        ("# escape=x\nFROM python\n", "Dockerfile:1:1: dockerfile parse error: invalid escape token"),
        ("FROM python\nRUN <<EOF\necho\n", "Dockerfile:2:1: dockerfile parse error: heredoc <<EOF is not closed"),
        ("FROM\n", "Dockerfile:1:5: dockerfile parse error: FROM requires an argument"),
    ])
    func errorsNameLineAndColumn(_ text: String, _ message: String) {
        #expect { try Dockerfile(text: text, path: "Dockerfile") } throws: { "\($0)".hasPrefix(message) }
    }

    @Test(arguments: [
        ("RUN echo hi\n", "Dockerfile:1:1: dockerfile parse error: the Dockerfile has no FROM instruction"),
        ("ARG X=1\nRUN echo\nFROM python\n", "Dockerfile:2:1: dockerfile parse error: RUN comes before the first FROM"),
        ("FROM python\nENV A=\"open\n", "Dockerfile:2:7: dockerfile parse error: unbalanced quotes: the \" here is never closed"),
        ("FROM python\nRUN echo 'open\n", "Dockerfile:2:10: dockerfile parse error: unbalanced quotes: the ' here is never closed"),
        ("FROM python\nCOPY ../secrets /app/\n", "Dockerfile:2:6: dockerfile parse error: COPY ../secrets is outside the build context"),
        ("FROM python\nCOPY /etc/passwd /app/\n", "Dockerfile:2:6: dockerfile parse error: COPY /etc/passwd is outside the build context"),
        ("FROM python\nWORKDIR /srv/$APP\nARG APP=web\n", "Dockerfile:2:14: dockerfile parse error: ARG APP is used before it is declared (line 3)"),
        ("ARG APP=web\nFROM python\nWORKDIR /srv/${APP}\n", "Dockerfile:3:14: dockerfile parse error: ARG APP is declared before FROM (line 1)"),
        ("FROM $BASE\n", "Dockerfile:1:6: dockerfile parse error: FROM uses $BASE, which no ARG before the first FROM declares"),
    ])
    func translationErrorsNameLineAndColumn(_ text: String, _ message: String) {
        #expect { try DockerfileTranslation(try Dockerfile(text: text, path: "Dockerfile")) } throws: { "\($0)".hasPrefix(message) }
    }

    @Test func baseVariablesAndModesAreReportedNotGuessed() throws {
        let text = "FROM python\nENV PATH=/opt/venv/bin:$PATH HOME_DIR=/srv\nCOPY --chown=app:app --chmod=0755 run.sh /usr/local/bin/\nCOPY --chmod=644 conf /etc/app\n"
        let translation = try DockerfileTranslation(try Dockerfile(text: text, path: "Dockerfile"))
        #expect(translation.env.map(\.value.name) == ["HOME_DIR"])
        #expect(translation.untranslated.map(\.line) == [2, 3])
        #expect(translation.copies.map(\.mode) == ["0755", "644"] && translation.copies.map(\.ownership) == [nil, nil])
    }

    @Test func aTypicalFlaskDockerfileTranslates() throws {
        let text = """
        ARG PY=3.12
        FROM python:${PY}-slim AS build
        RUN pip wheel -r requirements.txt
        FROM python:${PY}-slim
        ARG PY
        ENV PYTHONUNBUFFERED=1 APP_HOME="/srv/my app"
        ENV LEGACY value with spaces
        WORKDIR /app
        RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 libgl1 && rm -rf /var/lib/apt/lists/*
        COPY requirements.txt .
        RUN pip install --no-cache-dir -U pip && pip install --no-cache-dir -r requirements.txt
        COPY --from=build /wheels /wheels
        COPY --chown=1000:1000 . .
        RUN python train.py
        EXPOSE 8000/tcp
        USER 1000
        LABEL org.opencontainers.image.title="iris" version=1
        HEALTHCHECK --interval=30s CMD curl -f http://localhost:8000/health || exit 1
        CMD gunicorn --bind 0.0.0.0:8000 app:app
        """
        let translation = try DockerfileTranslation(try Dockerfile(text: text, path: "Dockerfile"))
        #expect(translation.base?.value == "python:3.12-slim" && translation.base?.line == 4)
        #expect(translation.env.map { "\($0.value.name)=\($0.value.value)" } == ["PYTHONUNBUFFERED=1", "APP_HOME=/srv/my app", "LEGACY=value with spaces"])
        #expect(translation.workdir?.value == "/app")
        #expect(translation.aptPackages.map(\.value) == ["libgomp1", "libgl1"])
        #expect(translation.requirements?.value == "requirements.txt" && translation.requirements?.line == 11)
        #expect(translation.pipPackages.isEmpty)
        #expect(translation.copies == [
            .init(source: "requirements.txt", destination: "/app/", ownership: nil, line: 10),
            .init(source: ".", destination: "/app", ownership: "1000:1000", line: 13),
        ])
        #expect(translation.untranslated.map(\.line) == [12, 14])
        #expect(translation.untranslated[1].value.contains("'python train.py' runs at build time"))
        #expect(translation.ports.map(\.value) == ["8000/tcp"] && translation.user?.value == "1000")
        #expect(translation.labels.map { $0.value.key } == ["org.opencontainers.image.title", "version"])
        #expect(translation.cmd?.value == ["/bin/sh", "-c", "gunicorn --bind 0.0.0.0:8000 app:app"])
        #expect(translation.healthcheck?.value == ["/bin/sh", "-c", "curl -f http://localhost:8000/health || exit 1"])
        #expect(translation.notes.contains { $0.line == 9 } && translation.notes.contains { $0.line == 11 })
    }

    @Test func entrypointClearsAnEarlierCmd() throws {
        let translation = try DockerfileTranslation(try Dockerfile(text: "FROM x\nCMD [\"a\"]\nENTRYPOINT [\"b\"]\n", path: "Dockerfile"))
        #expect(translation.cmd == nil)
        #expect(translation.entrypoint?.value == ["b"])
    }

    @Test func wordsAndVariables() {
        #expect(ShellWords.split(#"a "b c" 'd e' f\ g"#) == ["a", "b c", "d e", "f g"])
        #expect(ShellWords.expand("${A:-x}-${B:+y}-$C-\\$D-'$A'", ["B": "1", "C": "3"]) == "x-y-3-$D-'$A'")
        #expect(ProjectImporter.moduleForm(["gunicorn", "app:app"]) == ["python3", "-m", "gunicorn", "app:app"])
        #expect(ProjectImporter.moduleForm(["/bin/sh", "-c", "exec uvicorn main:app"]) == ["/bin/sh", "-c", "exec python3 -m uvicorn main:app"])
        #expect(ProjectImporter.pythonVersion(ofImage: "docker.io/library/python:3.11.9-slim-bookworm") == "3.11")
        #expect(ProjectImporter.httpProbe(["/bin/sh", "-c", "curl -f http://localhost:8000/health || exit 1"])?.0 == "/health")
    }
}
