import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allBicepFiles, bicepFile, groupAfter, infraText, resourceBodies, valueOf } from './bicep-text.js';

/**
 * Who may do what in Azure: Easy Auth in front of the app for the API's registration, whose app roles
 * (infra/app-roles.json) the app checks; adminPrincipalId gets UserSync.Admin and what setting secrets needs.
 */
const main = bicepFile('main.bicep');
const registration = bicepFile('modules/api-registration.bicep');

const appRoles = z
  .array(z.object({ id: z.uuid(), value: z.string(), displayName: z.string(), description: z.string(), allowedMemberTypes: z.array(z.string()), isEnabled: z.boolean() }))
  .parse(JSON.parse(infraText('app-roles.json')));

const roleIds = {
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
};

describe('app roles', () => {
  it('are UserSync.Admin and UserSync.Reader, assignable to users, groups and apps (automation)', () => {
    expect(appRoles.map((role) => role.value)).toEqual(['UserSync.Admin', 'UserSync.Reader']);
    expect(new Set(appRoles.map((role) => role.id)).size).toBe(appRoles.length);
    for (const role of appRoles) {
      expect(role.isEnabled).toBe(true);
      expect(role.allowedMemberTypes.sort()).toEqual(['Application', 'User']);
    }
  });

  it('are the roles of the registration main.bicep creates, whose tokens go only to their holders', () => {
    expect(registration).toContain("var appRoles = loadJsonContent('../app-roles.json')");
    expect(valueOf(groupAfter(registration, "resource app 'Microsoft.Graph/applications@v1.0'", '{'), 'appRoles')).toBe('appRoles');
    expect(valueOf(groupAfter(registration, "resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0'", '{'), 'appRoleAssignmentRequired')).toBe('true');
    expect(registration).toMatch(/^output adminRoleId string = first\(filter\(appRoles, role => role\.value == 'UserSync\.Admin'\)\)\.id$/m);
    expect(main).toMatch(/^module apiRegistration 'modules\/api-registration\.bicep' = if \(empty\(apiClientId\)\)/m);
  });
});

describe('adminPrincipalId', () => {
  it('gets UserSync.Admin (whoever deploys, when it is empty)', () => {
    expect(main).toMatch(/^param adminPrincipalId string = ''$/m);
    expect(main).toMatch(/^var adminId = empty\(adminPrincipalId\) \? deployer\(\)\.objectId : adminPrincipalId$/m);
    const assignment = groupAfter(main, "module apiAdminRole 'modules/api-admin-role.bicep'", '{');
    expect(valueOf(assignment, 'adminPrincipalId')).toBe('adminId');
    expect(valueOf(assignment, 'appRoleId')).toBe('apiRegistration!.outputs.adminRoleId');
    const module = bicepFile('modules/api-admin-role.bicep');
    const body = groupAfter(module, "resource adminRole 'Microsoft.Graph/appRoleAssignedTo@v1.0'", '{');
    expect([valueOf(body, 'principalId'), valueOf(body, 'appRoleId')]).toEqual(['adminPrincipalId', 'appRoleId']);
  });

  it('gets no Azure role but Key Vault Secrets Officer, and no template grants anyone Owner or Contributor', () => {
    const files = allBicepFiles();
    const adminAssignments = [...files].flatMap(([path, text]) =>
      resourceBodies(text, 'Microsoft.Authorization/roleAssignments')
        .filter((body) => /^(adminId|adminPrincipalId)$/.test(valueOf(body, 'principalId') ?? ''))
        .map((body) => ({ path, role: valueOf(body, 'roleDefinitionId') ?? '', text })),
    );
    expect(adminAssignments.map(({ path }) => path)).toEqual(['modules/key-vault.bicep']);
    for (const { role, text } of adminAssignments) {
      expect(role).toContain('roles.keyVaultSecretsOfficer');
      expect(text).toContain(`keyVaultSecretsOfficer: '${roleIds.keyVaultSecretsOfficer}'`);
    }
    expect(valueOf(groupAfter(main, "module keyVault 'modules/key-vault.bicep'", '{'), 'adminPrincipalId')).toBe('adminId');
    for (const text of files.values()) {
      for (const broad of [roleIds.owner, roleIds.contributor, roleIds.userAccessAdministrator]) expect(text).not.toContain(broad);
    }
  });
});

describe('Easy Auth', () => {
  const auth = groupAfter(main, "resource auth 'Microsoft.Web/sites/config@", '{');

  it('lets no request through without an Entra sign-in for the API registration: a browser is sent to sign in (the console)', () => {
    expect(valueOf(auth, 'name')).toBe("'authsettingsV2'");
    expect(valueOf(groupAfter(auth, 'platform:', '{'), 'enabled')).toBe('true');
    const validation = groupAfter(auth, 'globalValidation:', '{');
    expect([valueOf(validation, 'requireAuthentication'), valueOf(validation, 'unauthenticatedClientAction')]).toEqual(['true', "'RedirectToLoginPage'"]);
    // Only the SCIM endpoint is let through unauthenticated (it checks its connection's bearer token itself):
    // the console's files and page need a sign-in as the API does.
    expect(groupAfter(validation, 'excludedPaths:')).toMatch(/^\[\s*'\/scim'\s*\]$/);
    expect(groupAfter(auth, 'identityProviders:', '{')).toMatch(/^\{\s*azureActiveDirectory:/);
    expect(valueOf(groupAfter(auth, 'registration:', '{'), 'clientId')).toBe('apiAppId');
    expect(groupAfter(auth, 'allowedAudiences:')).toMatch(/^\[\s*apiAppId\s*'api:\/\/\$\{apiAppId\}'\s*\]$/);
    expect(main).toMatch(/^var apiAppId = empty\(apiClientId\) \? apiRegistration!\.outputs\.appId : apiClientId$/m);
  });

  it("registers the console's sign-in: Easy Auth's callback on the app's own host name, and ID tokens", () => {
    const app = groupAfter(registration, "resource app 'Microsoft.Graph/applications@v1.0'", '{');
    const web = groupAfter(app, 'web:', '{');
    expect(groupAfter(web, 'redirectUris:')).toMatch(/^\[\s*'https:\/\/\$\{appHostName\}\/\.auth\/login\/aad\/callback'\s*\]$/);
    const implicit = groupAfter(web, 'implicitGrantSettings:', '{');
    expect([valueOf(implicit, 'enableIdTokenIssuance'), valueOf(implicit, 'enableAccessTokenIssuance')]).toEqual(['true', 'false']);
    expect(valueOf(groupAfter(main, "module apiRegistration 'modules/api-registration.bicep'", '{'), 'appHostName')).toBe('functionApp.properties.defaultHostName');
  });

  it('leaves the root to the console: the Functions host shows no home page of its own', () => {
    expect(new RegExp(`name: 'AzureWebJobsDisableHomepage'\\s*\\n\\s*value: 'true'`).test(groupAfter(main, 'appSettings:'))).toBe(true);
  });

  it('leaves WEBSITE_AUTH_ENABLED, which tells the app to trust x-ms-client-principal, to the platform', () => {
    expect(groupAfter(main, 'appSettings:')).not.toMatch(/WEBSITE_AUTH_/);
  });
});
