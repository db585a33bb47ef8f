import Foundation
import Testing

@testable import BatchCore

@Suite struct BatchTermsTests {
  private func terms(_ env: [String: String], _ profile: ProviderProfile = .openAI) throws -> BatchTerms {
    try BatchTerms.fromEnvironment(env, profile: profile)
  }

  private func refusal(_ env: [String: String], _ profile: ProviderProfile = .openAI) -> String? {
    do {
      _ = try terms(env, profile)
      return nil
    } catch let error as ToolError {
      #expect(error.status == .configuration)
      return error.message
    } catch {
      return "\(error)"
    }
  }

  @Test func byDefaultFilesOutliveTheWindowByAWeekAndAtLeastTwoWeeks() throws {
    #expect(try terms([:]) == BatchTerms(completionWindow: "24h", fileExpiry: 1_209_600, outputExpiry: 1_209_600))
    // Azure takes 14 to 30 days: two weeks is its shortest.
    #expect(try terms([:], .azure) == BatchTerms(completionWindow: "24h", fileExpiry: 1_209_600, outputExpiry: 1_209_600))
    // A provider that documents no lifetime gets none sent.
    #expect(try terms([:], .groq) == BatchTerms(completionWindow: "24h", fileExpiry: nil, outputExpiry: nil))
    #expect(try terms([:], .deepinfra) == BatchTerms(completionWindow: "24h", fileExpiry: nil, outputExpiry: 1_209_600))
    // A long window lengthens the default: 7 days and a week.
    var longWindow = ProviderProfile.openAI
    longWindow.completionWindowHours = 24...168
    #expect(try terms(["COMPLETION_WINDOW": "7d"], longWindow).fileExpiry == 14 * 86_400)
    longWindow.completionWindowHours = 24...400
    #expect(try terms(["COMPLETION_WINDOW": "15d"], longWindow).fileExpiry == 22 * 86_400)
  }

  @Test func theLifetimeIsSetInSecondsHoursOrDaysOrNotAtAll() throws {
    #expect(try terms(["BATCHLINE_FILE_EXPIRY": "30d"]).outputExpiry == 2_592_000)
    #expect(try terms(["BATCHLINE_FILE_EXPIRY": "36h"]).fileExpiry == 129_600)
    #expect(try terms(["BATCHLINE_FILE_EXPIRY": "90000"]).fileExpiry == 90_000)
    #expect(try terms(["BATCHLINE_FILE_EXPIRY": "None"]) == BatchTerms(completionWindow: "24h", fileExpiry: nil, outputExpiry: nil))
    #expect(refusal(["BATCHLINE_FILE_EXPIRY": "31d"]) == "BATCHLINE_FILE_EXPIRY '31d' is outside the 1 h to 30 days openai takes")
    #expect(refusal(["BATCHLINE_FILE_EXPIRY": "7d"], .azure) == "BATCHLINE_FILE_EXPIRY '7d' is outside the 14 days to 30 days azure takes")
    #expect(refusal(["BATCHLINE_FILE_EXPIRY": "2h"]) == "BATCHLINE_FILE_EXPIRY '2h' would delete the request files within the 24h window")
    for bad in ["two weeks", "14w", "-5", "d", "0", "１４d"] {
      #expect(refusal(["BATCHLINE_FILE_EXPIRY": bad])?.hasPrefix("BATCHLINE_FILE_EXPIRY must be") == true, "\(bad)")
    }
  }

  @Test func theWindowIsOneTheProviderTakes() throws {
    #expect(try terms(["COMPLETION_WINDOW": "3d"], .groq).completionWindow == "3d")
    #expect(try terms(["COMPLETION_WINDOW": "1h"], .doubleword).completionWindow == "1h")
    #expect(refusal(["COMPLETION_WINDOW": "48h"]) == "COMPLETION_WINDOW '48h' is not a window openai takes (24h)")
    #expect(refusal(["COMPLETION_WINDOW": "8d"], .groq) == "COMPLETION_WINDOW '8d' is not a window groq takes (24h to 168h)")
    #expect(refusal(["COMPLETION_WINDOW": "2h"], .doubleword) == "COMPLETION_WINDOW '2h' is not a window doubleword takes (24h or 1h)")
  }
}
