// fsprobe: per-operation latency of create, write+fsync, close, rename,
// stat and unlink, through libnfs (NFS over TCP, no kernel client needed)
// or POSIX calls on a local directory: the figures docs/fs-model.md
// calibrates authbench's file-system model (-fs) with.
//
//	apt-get install -y libnfs-dev
//	gcc -O2 -o fsprobe probe.c -lnfs
//	./fsprobe nfs SERVER EXPORT N [3|4]   # EXPORT: the v3 path or the v4 pseudo path
//	./fsprobe local DIR - N
//
// Each of N rounds creates a 64-byte file, writes and fsyncs it, closes,
// renames, stats and unlinks it; p50, p90 and mean per operation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <nfsc/libnfs.h>

static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
#define NOPS 6
static const char *names[NOPS]={"create","write+fsync","close","unlink","rename","stat"};
static void report(const char*label,double*v[NOPS],int n){
  for(int o=0;o<NOPS;o++){qsort(v[o],n,sizeof(double),cmp);
    printf("%-6s %-12s p50 %.3f ms  p90 %.3f ms  mean %.3f ms (n=%d)\n",label,names[o],v[o][n/2],v[o][n*9/10],({double s=0;for(int i=0;i<n;i++)s+=v[o][i];s/n;}),n);}
}
int main(int argc,char**argv){
  if(argc<4){fprintf(stderr,"usage: fsprobe nfs|local SERVER|DIR EXPORT|- N [version]\n");return 2;}
  int n=atoi(argv[4]);double*v[NOPS];for(int o=0;o<NOPS;o++)v[o]=calloc(n,sizeof(double));
  char buf[64];memset(buf,'x',sizeof buf);char a[256],b[256];
  if(!strcmp(argv[1],"nfs")){
    struct nfs_context*nfs=nfs_init_context();
    if(argc>5) nfs_set_version(nfs,atoi(argv[5]));
    if(nfs_mount(nfs,argv[2],argv[3])){fprintf(stderr,"mount: %s\n",nfs_get_error(nfs));return 1;}
    for(int i=0;i<n;i++){struct nfsfh*fh;double t0,t1;
      snprintf(a,sizeof a,"/t%d",i);snprintf(b,sizeof b,"/u%d",i);
      t0=now(); if(nfs_create(nfs,a,O_WRONLY,0600,&fh)){fprintf(stderr,"creat: %s\n",nfs_get_error(nfs));return 1;} t1=now(); v[0][i]=t1-t0;
      t0=now(); if(nfs_write(nfs,fh,sizeof buf,buf)<0||nfs_fsync(nfs,fh)){fprintf(stderr,"write/fsync: %s\n",nfs_get_error(nfs));return 1;} t1=now(); v[1][i]=t1-t0;
      t0=now(); nfs_close(nfs,fh); t1=now(); v[2][i]=t1-t0;
      t0=now(); if(nfs_rename(nfs,a,b)){fprintf(stderr,"rename: %s\n",nfs_get_error(nfs));return 1;} t1=now(); v[4][i]=t1-t0;
      struct nfs_stat_64 st; t0=now(); if(nfs_stat64(nfs,b,&st)){fprintf(stderr,"stat: %s\n",nfs_get_error(nfs));return 1;} t1=now(); v[5][i]=t1-t0;
      t0=now(); if(nfs_unlink(nfs,b)){fprintf(stderr,"unlink: %s\n",nfs_get_error(nfs));return 1;} t1=now(); v[3][i]=t1-t0;
    }
    nfs_umount(nfs); nfs_destroy_context(nfs); report("nfs",v,n);
  } else {
    for(int i=0;i<n;i++){double t0,t1;
      snprintf(a,sizeof a,"%s/t%d",argv[2],i);snprintf(b,sizeof b,"%s/u%d",argv[2],i);
      t0=now(); int fd=open(a,O_WRONLY|O_CREAT|O_EXCL,0600); if(fd<0){perror("open");return 1;} t1=now(); v[0][i]=t1-t0;
      t0=now(); if(write(fd,buf,sizeof buf)<0||fsync(fd)){perror("write/fsync");return 1;} t1=now(); v[1][i]=t1-t0;
      t0=now(); close(fd); t1=now(); v[2][i]=t1-t0;
      t0=now(); if(rename(a,b)){perror("rename");return 1;} t1=now(); v[4][i]=t1-t0;
      struct stat st; t0=now(); if(stat(b,&st)){perror("stat");return 1;} t1=now(); v[5][i]=t1-t0;
      t0=now(); if(unlink(b)){perror("unlink");return 1;} t1=now(); v[3][i]=t1-t0;
    }
    report("local",v,n);
  }
  return 0;
}
