import Foundation
import Testing

@testable import BatchCore

@Suite struct APIModelsTests {
  private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
  }

  @Test func aRealUploadResponseDecodes() throws {
    let file = try decode(FileObject.self, fileJSON)
    #expect(file.id == "file-52voFe6FU6MWyAwa1Uj39R")
    #expect(file.bytes == 170)
    #expect(file.createdAt == 1_787_176_071)
    #expect(file.expiresAt == 1_789_768_071)
    #expect(file.purpose == "batch")
    #expect(file.statusDetails == nil)
  }

  @Test func aCompletedBatchWithNullsAndUsageDecodes() throws {
    let json = """
      {"id":"batch_69c3c347282c81908ede48ecc95bf201","object":"batch","endpoint":"/v1/responses",\
      "model":"gpt-5.4-pro-2026-03-05","errors":null,"input_file_id":"file-in","completion_window":"24h",\
      "status":"completed","output_file_id":null,"error_file_id":"file-err","created_at":1774437191,\
      "in_progress_at":1774437200,"expires_at":1774523591,"finalizing_at":1774437900,\
      "completed_at":1774438000,"failed_at":null,"expired_at":null,"cancelling_at":null,"cancelled_at":null,\
      "request_counts":{"total":9,"completed":0,"failed":9},\
      "usage":{"input_tokens":120,"input_tokens_details":{"cached_tokens":20},"output_tokens":0,\
      "output_tokens_details":{"reasoning_tokens":0},"total_tokens":120},\
      "metadata":{"run":"r1","file":"batch_001.jsonl"},"some_future_field":{"x":[1,2]}}
      """
    let batch = try decode(Batch.self, json)
    #expect(batch.status == .completed)
    #expect(batch.status.isTerminal)
    #expect(batch.outputFileID == nil)
    #expect(batch.errorFileID == "file-err")
    #expect(batch.requestCounts == RequestCounts(total: 9, completed: 0, failed: 9))
    #expect(batch.usage?.inputTokens == 120)
    #expect(batch.usage?.cachedTokens == 20)
    #expect(batch.usage?.reasoningTokens == 0)
    #expect(batch.metadata == ["run": "r1", "file": "batch_001.jsonl"])
    #expect(batch.completedAt == 1_774_438_000)
    #expect(batch.failedAt == nil)
  }

  @Test func anAzureStyleBatchDecodes() throws {
    let json = """
      {"id":"batch_6fa2d5b2-1bd0-4a3a-8c3c-0f6f5e1a9c1d","object":"batch","endpoint":null,"errors":null,\
      "input_file_id":"file-in","completion_window":"24h","status":"Validating","output_file_id":"",\
      "error_file_id":"","created_at":"2024-07-19T10:10:10.123Z","in_progress_at":"2024-07-19T10:11:00Z",\
      "expires_at":"not a date","request_counts":{"total":null,"completed":null,"failed":null},\
      "metadata":{"run":"r1","n":3,"bad":[1]}}
      """
    let batch = try decode(Batch.self, json)
    #expect(batch.status == .validating)
    #expect(batch.endpoint == nil)
    #expect(batch.outputFileID == nil)
    #expect(batch.errorFileID == nil)
    #expect(batch.createdAt == 1_721_383_810)
    #expect(batch.inProgressAt == 1_721_383_860)
    #expect(batch.expiresAt == nil)
    #expect(batch.requestCounts == RequestCounts())
    #expect(batch.metadata == ["run": "r1", "n": "3"])
  }

  @Test func aFailedBatchCarriesItsErrors() throws {
    let json = """
      {"id":"batch_f","status":"failed","errors":{"object":"list","data":[\
      {"code":"token_limit_exceeded","message":"Enqueued token limit reached for gpt-4o-mini. Limit: 2,000,000 enqueued tokens.","param":null,"line":null},\
      {"code":"invalid_json_line","message":"This line is not parseable as valid JSON.","param":null,"line":17}]}}
      """
    let batch = try decode(Batch.self, json)
    #expect(batch.status == .failed)
    #expect(batch.errors?.data.map(\.code) == ["token_limit_exceeded", "invalid_json_line"])
    #expect(batch.errors?.data.last?.line == 17)
    #expect(batch.requestCounts == nil)
  }

  @Test func statusesDecodeWithoutRegardToCase() throws {
    let cases: [(String, Batch.Status)] = [
      ("validating", .validating), ("FAILED", .failed), ("In_Progress", .inProgress), ("finalizing", .finalizing),
      ("Completed", .completed), ("expired", .expired), ("cancelling", .cancelling), ("cancelled", .cancelled),
      ("canceled", .cancelled), ("canceling", .cancelling),
    ]
    for (text, status) in cases {
      #expect(try decode(Batch.self, #"{"id":"b","status":"\#(text)"}"#).status == status, "\(text)")
    }
    let unknown = try decode(Batch.self, #"{"id":"b","status":"paused"}"#).status
    #expect(unknown == .other("paused"))
    #expect(unknown.rawValue == "paused")
    #expect(!unknown.isTerminal)
    #expect(Batch.Status.inProgress.rawValue == "in_progress")
    let terminal = [Batch.Status.validating, .failed, .inProgress, .finalizing, .completed, .expired, .cancelling, .cancelled]
      .filter(\.isTerminal)
    #expect(terminal == [.failed, .completed, .expired, .cancelled])
  }

  @Test func aBatchWithoutIdOrStatusIsNotABatch() {
    #expect(throws: DecodingError.self) { try decode(Batch.self, #"{"id":"b"}"#) }
    #expect(throws: DecodingError.self) { try decode(Batch.self, #"{"status":"completed"}"#) }
  }

  @Test func aBatchSurvivesARoundTrip() throws {
    let original = try decode(Batch.self, batchJSON)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let again = try JSONDecoder().decode(Batch.self, from: try encoder.encode(original))
    #expect(again == original)
    let text = String(decoding: try encoder.encode(original), as: UTF8.self)
    #expect(text.contains(#""status":"validating""#))
    #expect(text.contains(#""input_file_id":"file-in""#))
  }

  @Test func listPagesTolerateNullCursorsAndMissingFlags() throws {
    let empty = try decode(ListPage<Batch>.self, #"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#)
    #expect(empty.data.isEmpty && empty.firstID == nil && empty.lastID == nil && empty.hasMore == false)
    let bare = try decode(ListPage<FileObject>.self, #"{"data":[{"id":"file-a","bytes":null,"created_at":"x"}]}"#)
    #expect(bare.data.map(\.id) == ["file-a"])
    #expect(bare.hasMore == nil)
    #expect(throws: DecodingError.self) { try decode(ListPage<Batch>.self, #"{"object":"list"}"#) }
  }

  @Test func errorEnvelopesDecodeInEveryShape() throws {
    let standard = try decode(
      APIErrorEnvelope.self,
      #"{"error":{"message":"No such File object: file-x","type":"invalid_request_error","param":"id","code":null}}"#)
    #expect(standard.error == .init(type: "invalid_request_error", message: "No such File object: file-x", param: "id"))
    let azure = try decode(APIErrorEnvelope.self, #"{"error":{"code":404,"message":"Resource not found"}}"#)
    #expect(azure.error?.code == "404")
    let text = try decode(APIErrorEnvelope.self, #"{"error":"Bad gateway"}"#)
    #expect(text.error?.message == "Bad gateway")
    let bare = try decode(APIErrorEnvelope.self, #"{"message":"Too many requests","code":"rate_limited"}"#)
    #expect(bare.error?.message == "Too many requests")
    #expect(bare.error?.code == "rate_limited")
    #expect(try decode(APIErrorEnvelope.self, "{}").error == nil)
  }

  @Test func deletedFilesDecode() throws {
    #expect(try decode(DeletedFile.self, #"{"id":"file-x","object":"file","deleted":true}"#).deleted)
    #expect(try !decode(DeletedFile.self, #"{"id":"file-x"}"#).deleted)
  }
}
