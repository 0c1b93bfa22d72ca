import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { CloudRoutesError } from '../src/core/errors.js';
import { TEMPLATE_FIELDS, render, renderJson, templateProblems, unknownFields } from '../src/core/template.js';
import type { FieldSchema } from '../src/core/types.js';
import { ConfigService } from '../src/manage/config-service.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { sampleEvent } from './actions/_recorder.js';

const event = sampleEvent('slack', {}, { message: 'line 1\n"quoted" \\ <b>' });

test('render fills every documented field as plain text', () => {
  const text = TEMPLATE_FIELDS.map((f) => `${f}={{${f}}}`).join('|');
  assert.is(
    render(text, event),
    'monitor.name=api health|monitor.id=mon-7|monitor.ctype=http-get-statuscode|status=failed|previousStatus=healthy|failcount=3|zone=eu-1|' +
      'checkedAt=2024-05-01T12:30:00.000Z|message=line 1\n"quoted" \\ <b>|reaction.name=page ops|reaction.id=rea-3|' +
      // Empty outside an escalation, and for an event without its incident.
      'escalation.reason=|escalation.reaction.name=|escalation.runs=|incident.startedAt=|incident.url=',
  );
  const escalated = {
    ...event, escalation: { reason: 'restart did not fix api after 2 runs', reaction: { id: 'r-1', name: 'restart' }, runs: 2 },
    incident: { startedAt: Date.UTC(2024, 4, 1, 12, 29), url: 'http://127.0.0.1:8080/monitors/mon-7' },
  };
  assert.is(render('{{escalation.reason}}|{{escalation.reaction.name}}|{{escalation.runs}}|{{incident.startedAt}}|{{incident.url}}', escalated),
    'restart did not fix api after 2 runs|restart|2|2024-05-01T12:29:00.000Z|http://127.0.0.1:8080/monitors/mon-7');
  assert.is(render('{{ monitor.name }} / {{status}}{{', event), 'api health / failed{{');
  assert.is(render('{{previousStatus}}', { ...event, previousStatus: null }), '');
});

test('renderJson escapes values for JSON strings', () => {
  const out = renderJson('{"summary": "{{monitor.name}}: {{message}}", "n": {{failcount}}}', event);
  assert.equal(JSON.parse(out), { summary: 'api health: line 1\n"quoted" \\ <b>', n: 3 });
});

test('unknown fields are named; only fields marked template are checked, nested ones too', () => {
  assert.equal(unknownFields('{{monitor.nmae}} {{status}} {{ nope }} {{monitor.nmae}}'), ['monitor.nmae', 'nope']);
  const schema: FieldSchema = {
    type: 'object',
    properties: { text: { type: 'string', template: true }, raw: { type: 'string' }, to: { type: 'array', items: { type: 'string', template: true } } },
  };
  assert.equal(templateProblems(schema, { text: '{{status}}', raw: '{{whatever}}' }), []);
  const problems = templateProblems(schema, { text: 'x {{monitor.nmae}}', to: ['ok', '{{zonee}}'] });
  assert.is(problems.length, 2);
  assert.match(problems[0]!, 'data.text uses unknown template field {{monitor.nmae}}; known fields: monitor.name, monitor.id');
  assert.match(problems[1]!, 'data.to[1] uses unknown template field {{zonee}}');
});

test('reaction add and update refuse an unknown template field with CR_BAD_DATA naming it', async () => {
  const store = new SqliteStore(':memory:');
  await store.init();
  try {
    const config = new ConfigService(store, checkLoader(), reactionLoader(), Buffer.alloc(32, 7));
    const input = { name: 'tell ops', rtype: 'slack', data: { webhookUrl: 'https://hooks.slack.com/services/T/B/X', text: '{{monitor.nmae}} is {{status}}' } };
    try {
      await config.addReaction(input);
      assert.unreachable('should refuse the template');
    } catch (err) {
      assert.instance(err, CloudRoutesError);
      assert.is((err as CloudRoutesError).code, 'CR_BAD_DATA');
      assert.match((err as Error).message, 'data.text uses unknown template field {{monitor.nmae}}; known fields: monitor.name');
      assert.is((err as CloudRoutesError).field, 'data.text');
    }
    const saved = await config.addReaction({ ...input, data: { ...input.data, text: '{{monitor.name}} is {{status}}' } });
    try {
      await config.updateReaction(saved.id, { ...input, data: { ...input.data, webhookUrl: '(secret)', text: '{{statsu}}' } });
      assert.unreachable('should refuse the template');
    } catch (err) {
      assert.match((err as Error).message, '{{statsu}}');
    }
  } finally {
    await store.close();
  }
});

test.run();
