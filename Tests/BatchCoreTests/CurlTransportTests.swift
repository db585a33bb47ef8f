import Foundation
import Testing

@testable import BatchCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Python 3 HTTP server on 127.0.0.1 with the behaviours the transport must
/// survive: it records each request's headers and body in its directory.
private let serverScript = #"""
  import http.server, json, os, socket, sys, time

  DIR = sys.argv[1]

  class Handler(http.server.BaseHTTPRequestHandler):
      protocol_version = "HTTP/1.1"

      def log_message(self, *args):
          pass

      def reply(self, status, body=b"", headers=None):
          self.send_response(status)
          for name, value in (headers or {}).items():
              self.send_header(name, value)
          self.send_header("Content-Length", str(len(body)))
          self.end_headers()
          self.wfile.write(body)

      def json(self, status, obj, headers=None):
          all_headers = {"Content-Type": "application/json"}
          all_headers.update(headers or {})
          self.reply(status, json.dumps(obj).encode(), all_headers)

      def read_body(self):
          if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
              data = b""
              while True:
                  size = int(self.rfile.readline().strip(), 16)
                  if size == 0:
                      self.rfile.readline()
                      return data
                  data += self.rfile.read(size)
                  self.rfile.readline()
          return self.rfile.read(int(self.headers.get("Content-Length", "0")))

      def record(self, body):
          name = "%s %s" % (self.command, self.path.split("?")[0])
          name = name.replace("/", "_").replace(" ", "_")
          with open(os.path.join(DIR, name + ".body"), "wb") as f:
              f.write(body)
          with open(os.path.join(DIR, name + ".json"), "w") as f:
              json.dump([[k.lower(), v] for k, v in self.headers.items()], f)

      def drop(self):
          self.close_connection = True
          self.connection.shutdown(socket.SHUT_RDWR)

      def do_POST(self):
          body = self.read_body()
          self.record(body)
          if self.path == "/v1/files":
              self.json(200, {"id": "file-up1", "object": "file", "bytes": len(body), "created_at": 1,
                              "filename": "x", "purpose": "batch", "status": "processed", "status_details": None})
          elif self.path == "/v1/redirected":
              self.reply(307, b"", {"Location": "/v1/files"})
          elif self.path == "/v1/batches/batch_1/cancel":
              self.json(200, {"id": "batch_1", "object": "batch", "status": "cancelling"})
          elif self.path == "/v1/batches":
              self.json(503, {"error": {"message": "overloaded", "type": "server_error"}})
          elif self.path == "/v1/batches/batch_drop/cancel":
              self.drop()
          elif self.path == "/v1/dropped":
              with open(os.path.join(DIR, "dropped.count"), "a") as f:
                  f.write("x")
              self.drop()
          else:
              self.json(404, {"error": {"message": "Invalid URL (POST %s)" % self.path}})

      def do_GET(self):
          self.record(b"")
          path = self.path
          if path == "/v1/files/file-ok/content":
              self.reply(200, bytes(range(256)) * 4096, {"Content-Type": "application/octet-stream"})
          elif path == "/v1/files/file-short/content":
              self.send_response(200)
              self.send_header("Content-Length", "1000")
              self.end_headers()
              self.wfile.write(b"a" * 500)
              self.wfile.flush()
              self.drop()
          elif path == "/v1/files/file-moved/content":
              self.reply(302, b"", {"Location": "/v1/files/file-ok/content"})
          elif path == "/v1/files/file-away/content":
              port = self.server.server_address[1]
              self.reply(302, b"", {"Location": "http://localhost:%d/v1/files/file-ok/content" % port})
          elif path == "/v1/batches/batch_slow":
              time.sleep(10)
              self.json(200, {"id": "batch_slow", "status": "in_progress"})
          elif path == "/v1/batches/batch_drop":
              self.drop()
          elif path in ("/v1/batches/batch_endless", "/v1/batches/batch_flood"):
              # Sends until the client hangs up, then says how much it sent.
              self.send_response(200 if path.endswith("endless") else 500)
              self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(1 << 30))
              self.end_headers()
              sent, chunk = 0, b"x" * 65536
              try:
                  while sent < 1 << 30:
                      self.wfile.write(chunk)
                      sent += len(chunk)
              except OSError:
                  pass
              with open(os.path.join(DIR, path.split("/")[-1] + ".sent"), "w") as f:
                  f.write(str(sent))
              self.close_connection = True
          elif path == "/v1/batches/batch_drip":
              self.send_response(200)
              self.send_header("Content-Length", "100")
              self.end_headers()
              try:
                  for _ in range(100):
                      self.wfile.write(b" ")
                      self.wfile.flush()
                      time.sleep(0.3)
              except OSError:
                  pass
              self.close_connection = True
          elif path == "/v1/batches/batch_headers":
              self.send_response(200)
              for n in range(5000):
                  self.send_header("X-Filler-%d" % n, "y" * 100)
              self.send_header("Content-Length", "2")
              self.end_headers()
              self.wfile.write(b"{}")
          elif path == "/v1/files/file-gone/content":
              self.reply(404, b"e" * (1 << 20), {"Content-Type": "application/json"})
          elif path.startswith("/v1/batches/"):
              self.json(200, {"id": path.split("/")[-1], "object": "batch", "status": "in_progress"})
          else:
              self.json(404, {"error": {"message": "Invalid URL (GET %s)" % path}})

  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
  server.daemon_threads = True
  if sys.argv[2:] == ["tls"]:
      # A certificate nobody vouches for, made for this run.
      import ssl, subprocess
      cert, key = os.path.join(DIR, "cert.pem"), os.path.join(DIR, "key.pem")
      subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                      "-keyout", key, "-out", cert], check=True, capture_output=True)
      context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
      context.load_cert_chain(cert, key)
      server.socket = context.wrap_socket(server.socket, server_side=True)
  print(server.server_address[1], flush=True)
  server.serve_forever()
  """#

/// Whether `openssl` is on the PATH (to make a certificate).
private let hasOpenSSL: Bool = {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
  return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/openssl") }
}()

/// Whether `python3` is on the PATH.
private let hasPython: Bool = {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
  return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") }
}()

/// A running instance of a Python server script, stopped by its process id.
final class LocalServer: @unchecked Sendable {
  let process = Process()
  let port: Int
  let directory: String

  /// Starts `python3 arguments...` and reads the port from its first line of
  /// output, or from `portFile` when given.
  init(arguments: [String], directory: String, portFile: String? = nil) throws {
    self.directory = directory
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    // A child of Foundation's Process inherits the signal mask of the thread
    // that spawned it, where SIGTERM is blocked; unblock it before running
    // the script so that stop() can end it cleanly.
    let unblock = """
      import runpy, signal, sys
      signal.pthread_sigmask(signal.SIG_SETMASK, [])
      sys.argv = sys.argv[1:]
      runpy.run_path(sys.argv[0], run_name="__main__")
      """
    process.arguments = ["python3", "-c", unblock] + arguments
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    if let portFile {
      var found: Int? = nil
      for _ in 0..<200 where found == nil {
        if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
          let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
          found = value
        } else {
          usleep(25_000)
        }
      }
      port = found ?? 0
    } else {
      var line = Data()
      while !line.contains(0x0A) {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
      }
      port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
    if port == 0 {
      stop()
      throw ToolError(.failure, "the test server did not start")
    }
  }

  /// Starts the script above in a fresh directory; with `tls`, it speaks
  /// https with a self-signed certificate.
  static func start(tls: Bool = false) throws -> LocalServer {
    let directory = try makeTemporaryDirectory()
    let script = directory + "/server.py"
    try Data(serverScript.utf8).write(to: URL(fileURLWithPath: script))
    let server = try LocalServer(arguments: [script, directory] + (tls ? ["tls"] : []), directory: directory)
    server.scheme = tls ? "https" : "http"
    return server
  }

  private var scheme = "http"

  var baseURL: String { "\(scheme)://127.0.0.1:\(port)/v1" }

  /// The headers of the last `method path` request, names in lowercase.
  func headers(_ method: String, _ path: String) -> [(String, String)] {
    let name = "\(method)_\(path)".replacingOccurrences(of: "/", with: "_")
    guard let data = FileManager.default.contents(atPath: "\(directory)/\(name).json"),
      let pairs = try? JSONDecoder().decode([[String]].self, from: data)
    else { return [] }
    return pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
  }

  /// The body of the last `method path` request.
  func body(_ method: String, _ path: String) -> Data? {
    let name = "\(method)_\(path)".replacingOccurrences(of: "/", with: "_")
    return FileManager.default.contents(atPath: "\(directory)/\(name).body")
  }

  /// Stops the server: SIGTERM, then SIGKILL if it is still there after 2 s
  /// (a child of `Process` may have SIGTERM blocked).
  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      for _ in 0..<80 where process.isRunning { usleep(25_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  deinit { stop() }
}

@Suite(.enabled(if: hasPython, "needs python3"))
struct CurlTransportTests {
  private func client(_ server: LocalServer, maxAttempts: Int = 6, timeout: Int = 60) throws -> OpenAIClient {
    let env = [
      "OPENAI_API_KEY": ClientHarness.key, "OPENAI_BASE_URL": server.baseURL,
      "BATCHLINE_HTTP_TIMEOUT": String(timeout),
    ]
    return OpenAIClient(
      configuration: try APIConfiguration.fromEnvironment(env), transport: CurlTransport.shared,
      retryPolicy: HTTPRetryPolicy(maxAttempts: maxAttempts, sleep: { _ in }), logger: { _ in })
  }

  @Test func anUploadGoesOutWithOneContentLengthAndTheExactBody() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/batch_001.jsonl"
    let content = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    try content.write(to: URL(fileURLWithPath: source))

    let file = try await client(server).uploadFile(at: source)
    let received = try #require(server.body("POST", "/v1/files"))
    #expect(file.bytes == Int64(received.count))

    let headers = server.headers("POST", "/v1/files")
    #expect(headers.filter { $0.0 == "content-length" }.map(\.1) == [String(received.count)])
    #expect(!headers.contains { $0.0 == "transfer-encoding" })
    #expect(headers.contains { $0 == ("authorization", "Bearer \(ClientHarness.key)") })
    let contentType = try #require(headers.first { $0.0 == "content-type" }?.1)
    let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
    var expected = Data(
      ("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--\(boundary)\r\n"
        + "Content-Disposition: form-data; name=\"file\"; filename=\"batch_001.jsonl\"\r\n"
        + "Content-Type: application/jsonl\r\n\r\n").utf8)
    expected.append(content)
    expected.append(contentsOf: "\r\n--\(boundary)--\r\n".utf8)
    #expect(received == expected)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["batch_001.jsonl"])
  }

  @Test func aDownloadStreamsToTheDestination() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let api = try client(server)
    let expected = Data((0..<4096).flatMap { _ in (0...255).map { UInt8($0) } })
    #expect(try await api.downloadFileContent(id: "file-ok", to: directory + "/a.jsonl") == 1 << 20)
    #expect(FileManager.default.contents(atPath: directory + "/a.jsonl") == expected)
    // A redirect of a GET on the same host is followed.
    #expect(try await api.downloadFileContent(id: "file-moved", to: directory + "/b.jsonl") == 1 << 20)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["a.jsonl", "b.jsonl"])
  }

  @Test func aRedirectToAnotherHostDropsTheKey() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try await client(server).downloadFileContent(id: "file-away", to: directory + "/c.jsonl")
    let first = server.headers("GET", "/v1/files/file-away/content")
    #expect(first.contains { $0.0 == "authorization" })
    let second = server.headers("GET", "/v1/files/file-ok/content")
    #expect(second.contains { $0 == ("host", "localhost:\(server.port)") })
    #expect(!second.contains { $0.0 == "authorization" })
  }

  @Test func aCutOffDownloadIsRetriedAndReported() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    do {
      try await client(server, maxAttempts: 2).downloadFileContent(id: "file-short", to: directory + "/d.jsonl")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.isRetryable)
      #expect(error.toolError().status == .tryAgainLater)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }

  @Test func aPostIsNeverRedirected() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let request = HTTPRequest(
      method: "POST", url: URL(string: server.baseURL + "/redirected")!,
      headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
    let response = try await CurlTransport.shared.send(request)
    #expect(response.status == 307)
    #expect(server.body("POST", "/v1/files") == nil)
  }

  @Test func aCancelSendsAnEmptyBodyWithItsLength() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let batch = try await client(server).cancelBatch(id: "batch_1")
    #expect(batch.status == .cancelling)
    let headers = server.headers("POST", "/v1/batches/batch_1/cancel")
    #expect(headers.filter { $0.0 == "content-length" }.map(\.1) == ["0"])
  }

  @Test func aCreateAnswered503IsNotRepeated() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    do {
      _ = try await client(server).createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.outcomeUnknown)
      #expect(error.toolError().message == "POST /v1/batches: HTTP 503: overloaded; try again later")
    }
  }

  @Test func aRequestThatMustNotBeReplayedIsSentOnce() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let transport = CurlTransport.shared
    // Warm a keep-alive connection: libcurl replays a request whose reused
    // connection closes unanswered, which would send a paid POST twice.
    _ = try await transport.send(HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_1")!))
    let request = HTTPRequest(
      method: "POST", url: URL(string: server.baseURL + "/dropped")!, headers: ["Content-Type": "application/json"],
      body: Data("{}".utf8), timeout: 5, requiresFreshConnection: true)
    let started = Date()
    do {
      _ = try await transport.send(request)
      Issue.record("no error")
    } catch let error as TransportError {
      #expect(error.kind == .connectionLost)
    }
    // Well before the 60 s idle timeout: the closed connection was noticed.
    #expect(Date().timeIntervalSince(started) < 30)
    let count = try String(contentsOfFile: server.directory + "/dropped.count", encoding: .utf8)
    #expect(count == "x")
  }

  @Test func transportFailuresAreClassified() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let transport = CurlTransport.shared
    func failure(_ method: String, _ path: String, timeout: Int = 60) async -> TransportError? {
      do {
        _ = try await transport.send(
          HTTPRequest(method: method, url: URL(string: server.baseURL + path)!, timeout: timeout))
        return nil
      } catch {
        return error as? TransportError
      }
    }

    // The server answers after 10 s: a timed-out error proves the 1 s
    // timeout ended the wait first (a loaded machine may take a while).
    let slow = await failure("GET", "/batches/batch_slow", timeout: 1)
    #expect(slow?.kind == .timedOut)

    let dropped = await failure("GET", "/batches/batch_drop")
    #expect(dropped != nil)
    #expect(dropped?.mayHaveReachedServer == true)
    let droppedPost = await failure("POST", "/batches/batch_drop/cancel")
    #expect(droppedPost?.mayHaveReachedServer == true)

    // A port nobody listens on: the server's, once it has stopped.
    let closedPort = server.port
    server.stop()
    let refused = await failure("GET", "/batches/batch_1")
    #expect(refused?.kind == .cannotConnect, "port \(closedPort)")
    #expect(refused?.mayHaveReachedServer == false)
  }

  /// A transport with small limits, so that the tests read little.
  private static let small = CurlTransport(limits: ReadLimits(answerLimit: 1 << 20, errorPrefixLimit: 4096))

  /// What the server says it sent of `name` before the client hung up.
  private func sent(_ server: LocalServer, _ name: String) async throws -> Int? {
    for _ in 0..<200 {
      if let text = try? String(contentsOfFile: server.directory + "/\(name).sent", encoding: .utf8) {
        return Int(text)
      }
      try await Task.sleep(nanoseconds: 50_000_000)
    }
    return nil
  }

  @Test func anEndlessAnswerIsCutAtItsLimit() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let request = HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_endless")!)
    let response = try await Self.small.send(request)
    #expect(response.status == 200)
    #expect(response.isTruncated)
    #expect(response.body.count == 1 << 20)
    // The transfer stopped there: the server could only fill the socket
    // buffers before its writes failed, nowhere near its gigabyte.
    let sent = try #require(try await sent(server, "batch_endless"))
    #expect(sent < 64 << 20, "the server sent \(sent) bytes")
  }

  @Test func anErrorBodyIsReadAsAPrefix() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let request = HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_flood")!)
    let response = try await Self.small.send(request)
    #expect(response.status == 500)
    #expect(response.isTruncated)
    #expect(response.body.count == 4096)
    let sent = try #require(try await sent(server, "batch_flood"))
    #expect(sent < 64 << 20, "the server sent \(sent) bytes")

    // A download keeps the same prefix of an error in its file.
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let download = try await Self.small.download(
      HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/files/file-gone/content")!),
      toFile: directory + "/gone")
    #expect(download.head.status == 404)
    #expect(download.bytesWritten == 4096)
    #expect(FileManager.default.contents(atPath: directory + "/gone")?.count == 4096)
  }

  @Test func aDrippingAnswerMeetsItsDeadline() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    // A byte every 0.3 s never trips the idle timeout of 1 s; the deadline
    // of twice that ends the call long before the drip's 30 s.
    let request = HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_drip")!, timeout: 1)
    let started = Date()
    do {
      _ = try await CurlTransport.shared.send(request)
      Issue.record("no error")
    } catch let error as TransportError {
      #expect(error.kind == .timedOut)
      #expect(error.reason == "no complete answer within 2 s")
    }
    #expect(Date().timeIntervalSince(started) < 15)
  }

  @Test func headersPastTheirLimitAreRefused() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let request = HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_headers")!)
    do {
      _ = try await CurlTransport.shared.send(request)
      Issue.record("no error")
    } catch let error as TransportError {
      #expect(error.reason == "the answer's headers pass 256 KiB")
    }
  }

  @Test func aCancelledCallStopsAtOnce() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let request = HTTPRequest(method: "GET", url: URL(string: server.baseURL + "/batches/batch_slow")!)
    let call = Task { try await CurlTransport.shared.send(request) }
    try await Task.sleep(nanoseconds: 300_000_000)
    let started = Date()
    call.cancel()
    let result = await call.result
    #expect(throws: CancellationError.self) { try result.get() }
    // libcurl asks whether to go on at least once a second.
    #expect(Date().timeIntervalSince(started) < 5)
  }

  @Test(.enabled(if: hasOpenSSL, "needs openssl")) func anUntrustedCertificateGetsNoRequest() async throws {
    let server = try LocalServer.start(tls: true)
    defer { server.stop() }
    let request = HTTPRequest(
      method: "GET", url: URL(string: server.baseURL + "/batches/batch_1")!,
      headers: ["Authorization": "Bearer \(ClientHarness.key)"])
    do {
      _ = try await CurlTransport.shared.send(request)
      Issue.record("no error")
    } catch let error as TransportError {
      #expect(error.reason == "TLS connection failed")
    }
    // The handshake failed before any request, so the key was never sent.
    #expect(server.headers("GET", "/v1/batches/batch_1").isEmpty)
  }

  @Test func aFileShorterThanWhenHashedIsNotSent() async throws {
    let server = try LocalServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data(count: 300_000).write(to: URL(fileURLWithPath: directory + "/f.jsonl"))
    let body = FileBody(head: Data("<".utf8), path: directory + "/f.jsonl", fileLength: 400_000, tail: Data(">".utf8))
    let request = HTTPRequest(
      method: "POST", url: URL(string: server.baseURL + "/files")!, requiresFreshConnection: true)
    do {
      _ = try await CurlTransport.shared.upload(request, body: body)
      Issue.record("no error")
    } catch let error as ToolError {
      #expect(error.message.contains("changed while it was being uploaded"))
    }
    // The body stopped short of its Content-Length, which a real server
    // refuses (this one records what it got before the connection closed).
    #expect((server.body("POST", "/v1/files")?.count ?? 0) < Int(body.length))
  }
}
