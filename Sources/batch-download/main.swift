import BatchCore
await Tool.run(name: "batch-download", manual: "usage: batch-download [dir]") { _ in throw ToolError(.failure, "not built yet") }
