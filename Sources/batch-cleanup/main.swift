import BatchCore
await Tool.run(name: "batch-cleanup", manual: "usage: batch-cleanup [dir]") { _ in throw ToolError(.failure, "not built yet") }
