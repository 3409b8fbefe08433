/** Creates the app's topics that do not exist yet; existing ones are left as they are. */
import { TributaryError } from '../errors.js'
import type { Admin, NewTopic } from '../transport/types.js'

export async function createMissingTopics(admin: Admin, topics: NewTopic[]): Promise<string[]> {
  if (topics.length === 0) return []
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t.topic))
  const created: string[] = []
  for (const topic of missing) {
    try {
      await admin.createTopics([topic])
      created.push(topic.topic)
    } catch (error) {
      // Another worker of the same app may have created it a moment ago.
      if (!(error instanceof TributaryError && error.code === 'TOPIC_EXISTS')) throw error
    }
  }
  return created
}
