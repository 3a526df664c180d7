import type { FakeGroupInput, FakeUserInput } from '../test/fakes/graph-server.js';
import type { OktaGroupInput, OktaUserInput } from '../test/fakes/okta-server.js';

/** A generated directory: users with a manager tree, and groups nested root → departments → teams → users. */
export interface BenchDirectory {
  users: FakeUserInput[];
  groups: FakeGroupInput[];
  /** The group whose transitive members are in scope (the profile's selected group). */
  rootGroupId: string;
}

/** Managers have this many direct reports: a 100,000-user tree is 6 levels deep. */
const SPAN = 8;

/**
 * UPNs start as people's do (first.last@): the managers are read in ranges of UPN, so a directory of `user1`,
 * `user2`… would put everyone in one range. Initials about as often as in given names.
 */
const GIVEN_NAMES = [
  'anna', 'alex', 'amir', 'ava', 'ben', 'beth', 'chris', 'clara', 'carlos', 'dan', 'diana', 'david', 'emma', 'eli',
  'finn', 'grace', 'hugo', 'hana', 'ines', 'james', 'julia', 'john', 'jana', 'kim', 'kate', 'leo', 'lina', 'mark',
  'maria', 'mia', 'nina', 'olga', 'paul', 'rosa', 'ravi', 'sara', 'sam', 'tom', 'tina', 'vera', 'will', 'yuki', 'zoe',
];

/** Graph ids are GUIDs; deterministic ones keep runs comparable. */
function objectId(kind: 'u' | 'g', tag: number, index: number): string {
  const head = kind === 'u' ? '00000000' : '99999999';
  return `${head}-${tag.toString(16).padStart(4, '0')}-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

/**
 * `users` users (user i reports to user ⌊(i-1)/8⌋) and `groups` groups: one root "Intranet-All" holding
 * ~10% "Intranet-Dept-…" groups, which hold the remaining "Team-…" groups (not synced: the profile's regex
 * picks Intranet-*), which hold the users. Every user is a transitive member of the root, in 3 synced groups.
 */
export function generateDirectory(users: number, groups: number, tag = 1): BenchDirectory {
  const groupCount = Math.max(2, groups);
  const depts = Math.max(1, Math.round((groupCount - 1) / 10));
  const teams = groupCount - 1 - depts;
  const teamId = (t: number): string => objectId('g', tag, 1 + depts + t);
  const deptId = (d: number): string => objectId('g', tag, 1 + d);
  const rootGroupId = objectId('g', tag, 0);

  const userList: FakeUserInput[] = [];
  for (let i = 0; i < users; i++) {
    const dept = (teams > 0 ? i % teams : i) % depts;
    const upn = `${GIVEN_NAMES[i % GIVEN_NAMES.length]}.${i}@t${tag}.bench.example`;
    userList.push({
      id: objectId('u', tag, i),
      userPrincipalName: upn,
      mail: upn,
      givenName: `Given${i}`,
      surname: `Surname${i}`,
      department: `Department ${dept}`,
      jobTitle: i === 0 ? 'Chief Executive' : `Role ${i % 50}`,
      ...(i > 0 ? { managerId: objectId('u', tag, Math.floor((i - 1) / SPAN)) } : {}),
    });
  }
  const teamMembers: string[][] = Array.from({ length: teams }, () => []);
  const deptMembers: string[][] = Array.from({ length: depts }, () => []);
  for (let i = 0; i < users; i++) {
    if (teams > 0) teamMembers[i % teams]!.push(objectId('u', tag, i));
    else deptMembers[i % depts]!.push(objectId('u', tag, i));
  }
  for (let t = 0; t < teams; t++) deptMembers[t % depts]!.push(teamId(t));
  const groupList: FakeGroupInput[] = [
    // Leaves first: the fake records a member only if it exists when the group is added.
    ...teamMembers.map((members, t) => ({ id: teamId(t), displayName: `Team-${t.toString().padStart(4, '0')}`, members })),
    ...deptMembers.map((members, d) => ({ id: deptId(d), displayName: `Intranet-Dept-${d.toString().padStart(3, '0')}`, members })),
    { id: rootGroupId, displayName: 'Intranet-All', members: Array.from({ length: depts }, (_, d) => deptId(d)) },
  ];
  return { users: userList, groups: groupList, rootGroupId };
}

/** The same people as an HR export (usernames distinct from the Entra ones: usernames are unique across directories). */
export function generateCsv(users: number): string {
  const lines = ['username,email,first name,last name,department,job title,manager'];
  for (let i = 0; i < users; i++) {
    const manager = i > 0 ? `hr.user${Math.floor((i - 1) / SPAN)}` : '';
    lines.push(`hr.user${i},hr.user${i}@hr.bench.example,Given${i},Surname${i},Department ${i % 200},Role ${i % 50},${manager}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The same shape as an Okta org: Okta groups do not nest, so each group holds its transitive users directly. */
export interface BenchOktaOrg {
  users: OktaUserInput[];
  groups: OktaGroupInput[];
  /** Okta's built-in "Everyone": the profile's selected group (every user; its name is not a synced group's). */
  everyoneGroupId: string;
}

export function generateOktaOrg(users: number, groups: number, tag = 1): BenchOktaOrg {
  const directory = generateDirectory(users, groups, tag);
  // Okta ids are 20 characters and sort as the fake lists them: by id.
  const oktaId = (graphId: string): string => `00${graphId.startsWith('0') ? 'u' : 'g'}${graphId.replaceAll('-', '').slice(-17)}`;
  const byId = new Map(directory.groups.map((group) => [group.id, group]));
  const usersOf = (group: FakeGroupInput): string[] => group.members.flatMap((member) => {
    const nested = byId.get(member);
    return nested ? usersOf(nested) : [oktaId(member)];
  });
  const everyoneGroupId = `00g${tag.toString(16).padStart(4, '0')}everyone000`;
  return {
    users: directory.users.map((user) => ({
      id: oktaId(user.id),
      profile: {
        login: user.userPrincipalName.replace('.bench.', '.okta.bench.'),
        email: user.userPrincipalName.replace('.bench.', '.okta.bench.'),
        firstName: user.givenName,
        lastName: user.surname,
        department: user.department,
        title: user.jobTitle,
        ...(user.managerId ? { managerId: oktaId(user.managerId) } : {}),
      },
    })),
    groups: [
      ...directory.groups.map((group) => ({ id: oktaId(group.id), name: group.displayName, members: usersOf(group) })),
      { id: everyoneGroupId, name: 'Everyone', type: 'BUILT_IN', members: directory.users.map((user) => oktaId(user.id)) },
    ],
    everyoneGroupId,
  };
}
