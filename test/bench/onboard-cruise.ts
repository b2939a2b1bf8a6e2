/**
 * The onboard benches' scene (onboard.ts, onboard-cpu.ts, onboard-alloc.ts): the runtime as `aerie onboard` builds
 * it, fed PX4's recorded stream over UDP by a child process (onboard-px4-replay.ts, so the sender's CPU is not the
 * runtime's), flying a cruise leg. The replayed vehicle is a few metres up, inside the altitude floor's margin, so the
 * filter works its barrier path rather than the trivial clear one.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeliveryMission } from '../../onboard/mission/index.js';
import { OnboardRuntime } from '../../onboard/runtime.js';
import { UdpTransport } from '../../shared/mavlink/index.js';
import { px4Frames } from './onboard-px4-replay.js';

/** The replayed span: 38-48 s of the recording, armed, in OFFBOARD, climbing then holding. */
export const REPLAY_FROM_S = 38;
export const REPLAY_TO_S = 48;

export interface ReplayedCruise {
  readonly runtime: OnboardRuntime;
  readonly transport: UdpTransport;
  /** The replaying process (the alloc bench pauses it with SIGSTOP). */
  readonly px4: ChildProcess;
  /** The leg being flown. */
  readonly mission: DeliveryMission;
  /** PX4 messages a second in the replayed span. */
  readonly messagesPerS: number;
  /** Stop the replay and the runtime. */
  close(): Promise<void>;
}

/** The runtime with its link up on the replayed stream, a cruise leg under way. */
export async function startReplayedCruise(): Promise<ReplayedCruise> {
  const transport = new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: 0 });
  const runtime = await OnboardRuntime.create({ link: { mavlink: 'udp://127.0.0.1:0' }, transport });
  await runtime.link.start();
  const px4 = fork(
    fileURLToPath(new URL('./onboard-px4-replay.js', import.meta.url)),
    [String(transport.localPort), String(REPLAY_FROM_S), String(REPLAY_TO_S)],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const close = async (): Promise<void> => {
    // A paused replay takes the kill only once continued.
    px4.kill('SIGCONT');
    px4.kill();
    await runtime.stop();
  };
  const mission = new DeliveryMission({
    dropNeM: [400, 300],
    returnNeM: [0, 0],
    cruiseAltM: 6,
    releaseAltM: 3,
    releaseBy: 'hover',
    arrivalRadiusM: 2,
  });
  try {
    if (!(await runtime.waitForAutopilot(5000))) throw new Error('the replayed PX4 stream did not bring the link up');
    await new Promise((r) => setTimeout(r, 500));
    runtime.loop.setMission(mission, runtime.clock.nowMs());
    mission.resumeAirborne(runtime.clock.nowMs(), 'cruise-out');
  } catch (err) {
    await close();
    throw err;
  }
  const messagesPerS = px4Frames(REPLAY_FROM_S, REPLAY_TO_S).length / (REPLAY_TO_S - REPLAY_FROM_S);
  return { runtime, transport, px4, mission, messagesPerS, close };
}
