import BatchCore
await Tool.run(name: "batch-wait", manual: "usage: batch-wait [dir]") { _ in throw ToolError(.failure, "not built yet") }
