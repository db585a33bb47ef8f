import BatchCore
await Tool.run(name: "batch-upload", manual: "usage: batch-upload [dir]") { _ in throw ToolError(.failure, "not built yet") }
