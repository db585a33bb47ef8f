#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The part of libcurl's easy interface the transport uses, found at run time.
///
/// The package takes no dependencies and the system has no curl headers, so
/// the functions are looked up with `dlsym` in the libcurl every Linux system
/// with FoundationNetworking already has (`libcurl.so.4`, or its GnuTLS or NSS
/// builds). The option and error numbers are libcurl's stable ABI, the same
/// since 7.32 (2013).
///
/// `curl_easy_setopt` and `curl_easy_getinfo` are variadic in C; Swift calls
/// them through pointer types with one fixed argument of the option's type.
/// On x86-64 and AArch64 Linux a variadic callee receives integer and pointer
/// arguments exactly where a fixed-argument callee does, so the call is the
/// same one a C compiler would make (only Apple's AArch64 differs, and there
/// the transport is not built on libcurl).
final class LibCurl: @unchecked Sendable {
  // @unchecked: the function pointers never change after loading.

  typealias Handle = OpaquePointer

  /// `size_t (*)(char *, size_t, size_t, void *)`: the write, read and header callbacks.
  typealias DataCallback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int
  /// `int (*)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)`: the progress callback.
  typealias ProgressCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Int64, Int64) -> Int32

  /// The options set, by their number in `curl.h`.
  enum Option: Int32 {
    // Longs.
    case lowSpeedLimit = 19, lowSpeedTime = 20, noProgress = 43, post = 47, freshConnect = 74
    case forbidReuse = 75, httpGet = 80, noSignal = 99, timeoutMS = 155, connectTimeoutMS = 156
    case protocols = 181
    // Pointers and strings (curl copies strings).
    case writeData = 10001, url = 10002, readData = 10009, httpHeader = 10023, headerData = 10029
    case customRequest = 10036, progressData = 10057, acceptEncoding = 10102, copyPostFields = 10165
    // Functions.
    case writeFunction = 20011, readFunction = 20012, headerFunction = 20079, progressFunction = 20219
    // curl_off_t.
    case postFieldSizeLarge = 30120
  }

  /// The error codes the transport tells apart (`CURLcode`).
  enum Code {
    static let ok: Int32 = 0
    static let couldNotResolveProxy: Int32 = 5
    static let couldNotResolveHost: Int32 = 6
    static let couldNotConnect: Int32 = 7
    static let weirdServerReply: Int32 = 8
    static let http2: Int32 = 16
    static let partialFile: Int32 = 18
    static let writeError: Int32 = 23
    static let readError: Int32 = 26
    static let operationTimedOut: Int32 = 28
    static let sslConnectError: Int32 = 35
    static let abortedByCallback: Int32 = 42
    static let gotNothing: Int32 = 52
    static let sendError: Int32 = 55
    static let receiveError: Int32 = 56
    static let peerFailedVerification: Int32 = 60
    static let sendFailRewind: Int32 = 65
    static let http2Stream: Int32 = 92
  }

  /// What a read callback returns to abort the transfer (`CURL_READFUNC_ABORT`).
  static let readAbort = 0x1000_0000
  /// `CURLPROTO_HTTP | CURLPROTO_HTTPS`.
  static let httpProtocols = 1 | 2
  /// `CURL_GLOBAL_ALL`.
  private static let globalAll = 3

  private typealias Init = @convention(c) () -> Handle?
  private typealias Release = @convention(c) (Handle?) -> Void
  private typealias Perform = @convention(c) (Handle?) -> Int32
  private typealias SetLong = @convention(c) (Handle?, Int32, Int) -> Int32
  private typealias SetPointer = @convention(c) (Handle?, Int32, UnsafeRawPointer?) -> Int32
  private typealias SetOffset = @convention(c) (Handle?, Int32, Int64) -> Int32
  private typealias ErrorText = @convention(c) (Int32) -> UnsafePointer<CChar>?
  private typealias ListAppend = @convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?
  private typealias ListFree = @convention(c) (OpaquePointer?) -> Void
  private typealias GlobalInit = @convention(c) (Int) -> Int32

  private let easyInit: Init
  private let easyCleanup: Release
  private let easyReset: Release
  private let easyPerform: Perform
  private let setLong: SetLong
  private let setPointer: SetPointer
  private let setOffset: SetOffset
  private let errorText: ErrorText
  private let listAppend: ListAppend
  private let listFree: ListFree

  /// The library of this process, or why it could not be loaded.
  static let shared: Result<LibCurl, ToolError> = load()

  /// The names libcurl's shared library goes by on Linux distributions.
  private static let libraryNames = ["libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4", "libcurl.so"]

  private static func load() -> Result<LibCurl, ToolError> {
    for name in libraryNames {
      guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
      if let curl = LibCurl(library) { return .success(curl) }
      dlclose(library)
    }
    // A setting of the machine, not a passing network fault: no retry helps.
    return .failure(
      ToolError(.configuration, "cannot load libcurl (libcurl.so.4); install it (Debian and Ubuntu: libcurl4)"))
  }

  private init?(_ library: UnsafeMutableRawPointer) {
    func symbol<T>(_ name: String, _ type: T.Type) -> T? {
      dlsym(library, name).map { unsafeBitCast($0, to: type) }
    }
    guard let globalInit = symbol("curl_global_init", GlobalInit.self),
      let easyInit = symbol("curl_easy_init", Init.self),
      let easyCleanup = symbol("curl_easy_cleanup", Release.self),
      let easyReset = symbol("curl_easy_reset", Release.self),
      let easyPerform = symbol("curl_easy_perform", Perform.self),
      let setopt = dlsym(library, "curl_easy_setopt"),
      let errorText = symbol("curl_easy_strerror", ErrorText.self),
      let listAppend = symbol("curl_slist_append", ListAppend.self),
      let listFree = symbol("curl_slist_free_all", ListFree.self)
    else { return nil }
    // Once, before any handle: Swift runs this initializer exactly once.
    guard globalInit(Self.globalAll) == Code.ok else { return nil }
    self.easyInit = easyInit
    self.easyCleanup = easyCleanup
    self.easyReset = easyReset
    self.easyPerform = easyPerform
    setLong = unsafeBitCast(setopt, to: SetLong.self)
    setPointer = unsafeBitCast(setopt, to: SetPointer.self)
    setOffset = unsafeBitCast(setopt, to: SetOffset.self)
    self.errorText = errorText
    self.listAppend = listAppend
    self.listFree = listFree
  }

  func makeHandle() -> Handle? { easyInit() }
  func release(_ handle: Handle) { easyCleanup(handle) }
  /// Forgets every option; the handle keeps its open connections.
  func reset(_ handle: Handle) { easyReset(handle) }
  func perform(_ handle: Handle) -> Int32 { easyPerform(handle) }

  /// libcurl's short description of `code`.
  func describe(_ code: Int32) -> String {
    errorText(code).map { String(cString: $0) } ?? "error \(code)"
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, _ value: Int) -> Int32 {
    setLong(handle, option.rawValue, value)
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, _ value: Int64) -> Int32 {
    setOffset(handle, option.rawValue, value)
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, _ value: String) -> Int32 {
    value.withCString { setPointer(handle, option.rawValue, $0) }
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, pointer: UnsafeRawPointer?) -> Int32 {
    setPointer(handle, option.rawValue, pointer)
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, _ callback: DataCallback) -> Int32 {
    setPointer(handle, option.rawValue, unsafeBitCast(callback, to: UnsafeRawPointer.self))
  }

  @discardableResult
  func set(_ handle: Handle, _ option: Option, _ callback: ProgressCallback) -> Int32 {
    setPointer(handle, option.rawValue, unsafeBitCast(callback, to: UnsafeRawPointer.self))
  }

  /// A `curl_slist` of `lines`, to be given back with ``free(_:)``.
  func list(_ lines: [String]) -> OpaquePointer? {
    var list: OpaquePointer?
    for line in lines {
      guard let longer = line.withCString({ listAppend(list, $0) }) else {
        free(list)
        return nil
      }
      list = longer
    }
    return list
  }

  func free(_ list: OpaquePointer?) { listFree(list) }
}
