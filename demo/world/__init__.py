"""The demo world: Tasklane's customers and their realistic, deterministic behaviour, at any scale.

- `world`: companies and persons (firmographic and demographic traits, devices, places);
- `engagement`: archetypes, their curves and visit times; `behaviour`: activation, expansion
  and the planted patterns, simulated unit by unit;
- `journeys` and `sessions`: what happens inside a visit, as the snippet reports it;
- `writers`: binary COPY of the generated rows; `seed`: the whole run, chunked and streamed;
- `starter`: the demo project's starter actions, surveys, segments and lifecycle model;
- `recordings`: synthetic session recordings for a sample of seeded sessions.
"""
