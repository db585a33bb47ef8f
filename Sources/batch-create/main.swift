import BatchCore
await Tool.run(name: "batch-create", manual: "usage: batch-create [dir]") { _ in throw ToolError(.failure, "not built yet") }
