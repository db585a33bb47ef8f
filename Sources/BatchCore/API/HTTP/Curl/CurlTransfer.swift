#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One request and its answer, carried out by `curl_easy_perform` on a
/// thread of its own.
///
/// The answer is read by the callbacks here, which is what bounds it: the
/// write callback keeps what fits the ``ReadLimits`` and, past them, stops
/// the transfer by returning 0, so no byte beyond the limit is ever held
/// (FoundationNetworking queued every chunk for its delegate without waiting,
/// and a gigabyte answer took up to 740 MB before its delegate could stop
/// it). Headers are capped too.
final class CurlTransfer: @unchecked Sendable {
  // @unchecked: everything but `cancelled` is touched only by the thread
  // running `perform`; `cancelled` is under `lock`.

  /// Where the body of the answer goes.
  enum Sink {
    /// Kept in memory, within ``ReadLimits/answerLimit`` (2xx) or
    /// ``ReadLimits/errorPrefixLimit`` (any other status).
    case memory
    /// Written to the open file `fd` named `path`; an error's body only up
    /// to ``ReadLimits/errorPrefixLimit``.
    case file(fd: Int32, path: String)
  }

  /// Where the body of the request comes from.
  enum Source {
    /// No body, or a small one in memory.
    case memory(Data?)
    /// `body`, whose file is open as `fd`.
    case file(FileBody, fd: Int32)
  }

  /// What came back: the head, the body kept in memory (empty for a file
  /// sink), the bytes written to the file, and whether a limit cut the body.
  struct Answer {
    var head: HTTPResponseHead
    var body: Data
    var bytesWritten: Int64
    var isTruncated: Bool
  }

  /// The most header bytes read: real answers have a few hundred.
  static let headerLimit = 256 << 10

  private let request: HTTPRequest
  private let source: Source
  private let sink: Sink
  private let limits: ReadLimits

  private var status: Int?
  private var headers: [String: String] = [:]
  private var headerBytes = 0
  private var body = Data()
  /// How many body bytes were kept, in memory or in the file.
  private var bodyKept: Int64 = 0
  private var truncated = false
  /// Why a callback stopped the transfer, when the fault is not the network's
  /// (a ``TransportError``, or a ``ToolError`` for a local file).
  private var failure: Error?
  /// How many bytes of the request body have been handed to libcurl.
  private var bodySent: Int64 = 0

  private let lock = NSLock()
  private var cancelled = false

  init(_ request: HTTPRequest, source: Source, sink: Sink, limits: ReadLimits) {
    self.request = request
    self.source = source
    self.sink = sink
    self.limits = limits
  }

  /// Makes the transfer stop at libcurl's next progress call (at least once
  /// a second, even while nothing arrives).
  func cancel() {
    lock.withLock { cancelled = true }
  }

  private var isCancelled: Bool { lock.withLock { cancelled } }

  /// The most body bytes kept of the current answer: all of a download's
  /// success (it goes to disk), at most the limits of anything else.
  private var bodyLimit: Int64? {
    let success = (200..<300).contains(status ?? 200)
    switch sink {
    case .memory: return Int64(success ? limits.answerLimit : limits.errorPrefixLimit)
    case .file: return success ? nil : Int64(limits.errorPrefixLimit)
    }
  }

  /// Runs the transfer on `handle`, blocking the calling thread.
  ///
  /// - Throws: ``TransportError``, or `CancellationError` after ``cancel()``.
  func perform(_ curl: LibCurl, on handle: LibCurl.Handle) throws -> Answer {
    if isCancelled { throw CancellationError() }
    if case .file(let fd, let path) = sink {
      guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
        throw TransportError(.other, "cannot write '\(path)': \(systemReason())")
      }
    }
    let headerList = curl.list(headerLines())
    defer { curl.free(headerList) }
    configure(curl, handle, headers: headerList)
    let started = DispatchTime.now().uptimeNanoseconds
    let code = withExtendedLifetime(self) { curl.perform(handle) }

    if isCancelled { throw CancellationError() }
    if let failure { throw failure }
    guard code == LibCurl.Code.ok || (code == LibCurl.Code.writeError && truncated) else {
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
      throw Self.error(code, curl: curl, pastDeadline: seconds >= Double(request.deadline) - 0.5, request: request)
    }
    guard let status else {
      throw TransportError(.connectionLost, "connection closed without a valid response")
    }
    return Answer(
      head: HTTPResponseHead(status: status, headers: headers), body: body, bytesWritten: bodyKept,
      isTruncated: truncated)
  }

  /// The request's headers as libcurl takes them.
  private func headerLines() -> [String] {
    var lines: [String] = []
    for (name, value) in request.headers.sorted(by: { $0.key < $1.key })
    where name.caseInsensitiveCompare("Content-Length") != .orderedSame {
      // libcurl sends the length it is given below, once.
      lines.append("\(name): \(value)")
    }
    // No `Expect: 100-continue`: libcurl would wait a second for a
    // `100 Continue` that servers need not send before each body.
    lines.append("Expect:")
    return lines
  }

  private func configure(_ curl: LibCurl, _ handle: LibCurl.Handle, headers: OpaquePointer?) {
    let me = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    curl.set(handle, .url, request.url.absoluteString)
    curl.set(handle, .protocols, LibCurl.httpProtocols)
    curl.set(handle, .noSignal, 1)
    curl.set(handle, .httpHeader, pointer: headers.map { UnsafeRawPointer($0) })
    // gzip, deflate and the rest: the write callback counts decoded bytes.
    curl.set(handle, .acceptEncoding, "")
    // The idle timeout: less than a byte a second for `timeout` seconds.
    curl.set(handle, .connectTimeoutMS, request.timeout * 1000)
    curl.set(handle, .lowSpeedLimit, 1)
    curl.set(handle, .lowSpeedTime, request.timeout)
    // The total deadline, however steadily the answer trickles in.
    curl.set(handle, .timeoutMS, request.deadline * 1000)
    if request.requiresFreshConnection {
      // libcurl sends a request again, unasked, when the reused connection
      // it went out on closes unanswered; a new one is never retried.
      curl.set(handle, .freshConnect, 1)
      curl.set(handle, .forbidReuse, 1)
    }
    switch (request.method, source) {
    case ("GET", _):
      curl.set(handle, .httpGet, 1)
    case ("POST", .memory(let data)):
      curl.set(handle, .post, 1)
      let data = data ?? Data()
      curl.set(handle, .postFieldSizeLarge, Int64(data.count))
      // libcurl copies that many bytes; an empty body still goes out with
      // `Content-Length: 0` (an empty Data may have no address to give).
      if data.isEmpty {
        curl.set(handle, .copyPostFields, "")
      } else {
        data.withUnsafeBytes { _ = curl.set(handle, .copyPostFields, pointer: $0.baseAddress) }
      }
    case ("POST", .file(let body, _)):
      curl.set(handle, .post, 1)
      curl.set(handle, .postFieldSizeLarge, body.length)
      curl.set(handle, .readFunction, Self.onRead)
      curl.set(handle, .readData, pointer: me)
    case (let method, _):
      curl.set(handle, .httpGet, 1)
      curl.set(handle, .customRequest, method)
    }
    curl.set(handle, .headerFunction, Self.onHeader)
    curl.set(handle, .headerData, pointer: me)
    curl.set(handle, .writeFunction, Self.onWrite)
    curl.set(handle, .writeData, pointer: me)
    curl.set(handle, .noProgress, 0)
    curl.set(handle, .progressFunction, Self.onProgress)
    curl.set(handle, .progressData, pointer: me)
  }

  // MARK: - Callbacks

  private static func transfer(_ pointer: UnsafeMutableRawPointer?) -> CurlTransfer {
    Unmanaged<CurlTransfer>.fromOpaque(pointer!).takeUnretainedValue()
  }

  private static let onHeader: LibCurl.DataCallback = { buffer, size, count, userdata in
    let transfer = CurlTransfer.transfer(userdata)
    let length = size * count
    guard let buffer else { return length }
    return transfer.receiveHeader(UnsafeRawBufferPointer(start: buffer, count: length))
  }

  private static let onWrite: LibCurl.DataCallback = { buffer, size, count, userdata in
    let transfer = CurlTransfer.transfer(userdata)
    let length = size * count
    guard let buffer else { return length }
    return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length))
  }

  private static let onRead: LibCurl.DataCallback = { buffer, size, count, userdata in
    CurlTransfer.transfer(userdata).readBody(into: buffer, length: size * count)
  }

  private static let onProgress: LibCurl.ProgressCallback = { userdata, _, _, _, _ in
    CurlTransfer.transfer(userdata).isCancelled ? 1 : 0
  }

  /// Takes one header line; a status line starts a new answer (after a
  /// `100 Continue`, say), so only the last answer's headers are kept.
  private func receiveHeader(_ line: UnsafeRawBufferPointer) -> Int {
    headerBytes += line.count
    guard headerBytes <= Self.headerLimit else {
      failure = TransportError(.other, "the answer's headers pass \(Self.headerLimit >> 10) KiB")
      return 0
    }
    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if text.hasPrefix("HTTP/") {
      let fields = text.split(separator: " ", maxSplits: 2)
      status = fields.count > 1 ? Int(fields[1]) : nil
      headers = [:]
    } else if let colon = text.firstIndex(of: ":") {
      let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
      let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      headers[name] = headers[name].map { $0 + ", " + value } ?? value
    }
    return line.count
  }

  /// Takes a piece of the body, within the limits; returning less than
  /// `bytes.count` stops the transfer.
  private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
    var kept = bytes
    if let limit = bodyLimit, Int64(bytes.count) > limit - bodyKept {
      kept = UnsafeRawBufferPointer(rebasing: bytes.prefix(Int(max(0, limit - bodyKept))))
      truncated = true
    }
    switch sink {
    case .memory:
      body.append(contentsOf: kept)
    case .file(let fd, let path):
      do {
        try APIFileIO.writeAll(fd, kept, path: path)
      } catch {
        failure = error
        return 0
      }
    }
    bodyKept += Int64(kept.count)
    return truncated ? 0 : bytes.count
  }

  /// Fills libcurl's buffer with the next bytes of the body: its head, then
  /// its file, then its tail. Returning 0 ends the body.
  private func readBody(into buffer: UnsafeMutablePointer<CChar>?, length: Int) -> Int {
    guard case .file(let body, let fd) = source, let buffer, length > 0 else { return LibCurl.readAbort }
    let headEnd = Int64(body.head.count)
    let fileEnd = headEnd + body.fileLength
    let n: Int
    if bodySent < headEnd {
      n = Self.copy(body.head, from: Int(bodySent), into: buffer, length: length)
    } else if bodySent < fileEnd {
      let wanted = Int(min(Int64(length), fileEnd - bodySent))
      var got: Int
      repeat { got = read(fd, buffer, wanted) } while got < 0 && errno == EINTR
      if got < 0 {
        failure = ToolError.system(.noInput, "read", body.path)
        return LibCurl.readAbort
      }
      if got == 0 {
        // Shorter than when it was hashed: what was recorded is not what would go out.
        failure = ToolError(.failure, "'\(body.path)' changed while it was being uploaded; run the upload again")
        return LibCurl.readAbort
      }
      n = got
    } else {
      n = Self.copy(body.tail, from: Int(bodySent - fileEnd), into: buffer, length: length)
    }
    bodySent += Int64(n)
    return n
  }

  /// Copies what fits of `data` from `offset` into `buffer`, returning the count.
  private static func copy(_ data: Data, from offset: Int, into buffer: UnsafeMutablePointer<CChar>, length: Int) -> Int {
    let count = min(length, data.count - offset)
    guard count > 0 else { return 0 }
    data.withUnsafeBytes { bytes in
      UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
    }
    return count
  }

  /// The ``TransportError`` of a libcurl failure.
  private static func error(_ code: Int32, curl: LibCurl, pastDeadline: Bool, request: HTTPRequest) -> TransportError {
    switch code {
    case LibCurl.Code.couldNotResolveHost, LibCurl.Code.couldNotResolveProxy:
      return TransportError(.cannotConnect, "cannot find the host")
    case LibCurl.Code.couldNotConnect:
      return TransportError(.cannotConnect, "connection refused")
    case LibCurl.Code.operationTimedOut:
      return pastDeadline
        ? TransportError(.timedOut, "no complete answer within \(request.deadline) s")
        : TransportError(.timedOut, "timed out")
    case LibCurl.Code.gotNothing, LibCurl.Code.weirdServerReply:
      return TransportError(.connectionLost, "connection closed without a valid response")
    case LibCurl.Code.sendError, LibCurl.Code.receiveError, LibCurl.Code.sendFailRewind, LibCurl.Code.http2,
      LibCurl.Code.http2Stream:
      return TransportError(.connectionLost, "connection lost")
    case LibCurl.Code.partialFile:
      return TransportError(.connectionLost, "transfer interrupted")
    case LibCurl.Code.sslConnectError, LibCurl.Code.peerFailedVerification:
      return TransportError(.other, "TLS connection failed")
    default:
      return TransportError(.other, "network error (\(curl.describe(code)))")
    }
  }
}
