import type { SubgraphDefinition } from '../../lib';
import { Account } from './account.entity';
import { AccountResolver } from './account.resolver';
import { ApiKey } from './api-key.entity';
import { ApiKeyResolver } from './api-key.resolver';
import { LogsResolver } from './logs.resolver';
import { PlatformStatsResolver } from './platform-stats.resolver';
import { InternalResolver } from './internal.resolver';
import { AccountsInit } from './migrations/0001-init';
import { AccountsIdentity } from './migrations/0002-identity';
import { AccountsSettings } from './migrations/0003-settings';
import { AccountsGaze } from './migrations/0004-gaze';
import { GazeSample } from './gaze/gaze.entity';
import { GazeResolver } from './gaze/gaze.resolver';
import { AccountsEmailVerification } from './migrations/0005-email-verification';
import { RefreshToken } from './refresh-token.entity';
import { AccountsSocketTickets } from './migrations/0006-socket-tickets';
import { AccountsDevices } from './migrations/0007-devices';
import { Device, DevicePairingCode } from './devices/device.entity';
import { DeviceResolver } from './devices/device.resolver';
import { SettingResolver } from './setting.resolver';
import { SocketTicket } from './socket-ticket.entity';
import { SocketTicketResolver } from './socket-ticket.resolver';

export { ensureAdmin } from './internal.resolver';

export const accounts: SubgraphDefinition = {
  name: 'accounts',
  entities: [Account, ApiKey, RefreshToken, GazeSample, SocketTicket, Device, DevicePairingCode],
  migrations: [
    { name: '0001-init', class: AccountsInit },
    { name: '0002-identity', class: AccountsIdentity },
    { name: '0003-settings', class: AccountsSettings },
    { name: '0004-gaze', class: AccountsGaze },
    { name: '0005-email-verification', class: AccountsEmailVerification },
    { name: '0006-socket-tickets', class: AccountsSocketTickets },
    { name: '0007-devices', class: AccountsDevices },
  ],
  resolvers: [
    AccountResolver,
    ApiKeyResolver,
    InternalResolver,
    SettingResolver,
    GazeResolver,
    LogsResolver,
    PlatformStatsResolver,
    SocketTicketResolver,
    DeviceResolver,
  ],
  entityTypes: { Account },
};
