import Foundation

/// An amount in USD: to the cent from a cent up, else with the digits that
/// show it (`0.0021`), so that a small run or a small cap never reads 0.00.
public func formatUSD(_ value: Double) -> String {
  guard value > 0 && value < 0.01 else { return String(format: "%.2f", value) }
  let decimals = min(8, max(2, Int((-log10(value)).rounded(.up)) + 1))
  var text = String(format: "%.\(decimals)f", value)
  while text.hasSuffix("0") && text.count > 4 { text.removeLast() }
  return text
}

/// `1234567` as `1,234,567`.
func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (n, c) in digits.enumerated() {
    if n > 0 && (digits.count - n) % 3 == 0 { out.append(",") }
    out.append(c)
  }
  return value < 0 ? "-" + out : out
}
