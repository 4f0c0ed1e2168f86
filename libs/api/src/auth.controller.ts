import { Controller, Inject } from '@nestjs/common';
import { GrpcHandler } from './grpc-handler';
import { Member, RequestCall, RequestMetadata, authpb } from '../../server/src';
import { MEMBER } from './tokens';

type Res = Promise<authpb.AuthResponse>;

/**
 * etcdserverpb.Auth. Every call goes through the log as in etcd (the apply step checks the
 * caller's rights); user add and password changes are hashed here first.
 */
@Controller()
export class AuthController {
  constructor(@Inject(MEMBER) private readonly member: Member) {}

  private get auth() {
    return this.member.auth;
  }

  @GrpcHandler('Auth', 'AuthEnable')
  authEnable(_req: unknown, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_enable: {} }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'AuthDisable')
  authDisable(_req: unknown, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_disable: {} }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'Authenticate')
  authenticate(req: authpb.AuthenticateRequest): Res {
    return this.auth.authenticate(req);
  }

  @GrpcHandler('Auth', 'UserAdd')
  userAdd(req: authpb.AuthUserAddRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.userAdd(req, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserGet')
  userGet(req: authpb.AuthUserGetRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_user_get: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserList')
  userList(_req: unknown, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_user_list: {} }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserDelete')
  userDelete(req: authpb.AuthUserDeleteRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_user_delete: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserChangePassword')
  userChangePassword(
    req: authpb.AuthUserChangePasswordRequest,
    meta: RequestMetadata,
    call?: RequestCall,
  ): Res {
    return this.auth.userChangePassword(req, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserGrantRole')
  userGrantRole(req: authpb.AuthUserGrantRoleRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_user_grant_role: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'UserRevokeRole')
  userRevokeRole(req: authpb.AuthUserRevokeRoleRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_user_revoke_role: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleAdd')
  roleAdd(req: authpb.AuthRoleAddRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_role_add: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleGet')
  roleGet(req: authpb.AuthRoleGetRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_role_get: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleList')
  roleList(_req: unknown, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_role_list: {} }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleDelete')
  roleDelete(req: authpb.AuthRoleDeleteRequest, meta: RequestMetadata, call?: RequestCall): Res {
    return this.auth.propose({ auth_role_delete: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleGrantPermission')
  roleGrantPermission(
    req: authpb.AuthRoleGrantPermissionRequest,
    meta: RequestMetadata,
    call?: RequestCall,
  ): Res {
    return this.auth.propose({ auth_role_grant_permission: req }, this.auth.infoFrom(meta, call));
  }

  @GrpcHandler('Auth', 'RoleRevokePermission')
  roleRevokePermission(
    req: authpb.AuthRoleRevokePermissionRequest,
    meta: RequestMetadata,
    call?: RequestCall,
  ): Res {
    return this.auth.propose({ auth_role_revoke_permission: req }, this.auth.infoFrom(meta, call));
  }
}
